import torch

from hrpro_plugin.models.snippet_level.snippet_head import (SnippetHead,
                                                    masked_topk_mean)


def _head():
    torch.manual_seed(0)
    return SnippetHead(in_channels=8, num_classes=3).eval()


def test_shapes_and_relations():
    head = _head()
    x = torch.randn(2, 10, 8)
    mask = torch.tensor([[True] * 10, [True] * 6 + [False] * 4])
    out = head(x, mask)
    assert out['embedded'].shape == (2, 10, 8)
    assert out['cas'].shape == (2, 10, 3)
    assert out['bg'].shape == (2, 10)
    assert out['attn'].shape == (2, 10)
    assert out['fused_cas'].shape == (2, 10, 3)
    assert out['video_scores'].shape == (2, 3)
    assert torch.equal(out['mask'], mask)
    v = mask
    torch.testing.assert_close(out['attn'][v], 1 - out['bg'][v])
    torch.testing.assert_close(out['fused_cas'],
                               out['cas'] * out['attn'][..., None])
    assert ((out['cas'] > 0) & (out['cas'] < 1))[v].all()
    for key in ('embedded', 'cas', 'bg', 'attn', 'fused_cas'):
        assert torch.all(out[key][1, 6:] == 0), key


def test_topk_hand_computed():
    # video 0: T=16 -> k=2; video 1: T=5 (padded to 16) -> k=1
    cas = torch.zeros(2, 16, 2)
    cas[0, :, 0] = torch.linspace(0, 0.75, 16)   # top two: 0.75, 0.70
    cas[0, :, 1] = 0.1
    cas[0, 3, 1] = 0.9                           # top two: 0.9, 0.1
    cas[1, :5, 0] = torch.tensor([0.2, 0.4, 0.3, 0.1, 0.0])   # top one: 0.4
    cas[1, :5, 1] = torch.tensor([0.1, 0.1, 0.1, 0.1, 0.6])   # top one: 0.6
    cas[1, 5:] = 5.0                             # padding must be ignored
    mask = torch.zeros(2, 16, dtype=torch.bool)
    mask[0] = True
    mask[1, :5] = True
    got = masked_topk_mean(cas, mask, 8)
    expected = torch.tensor([[(0.75 + 0.70) / 2, (0.9 + 0.1) / 2],
                             [0.4, 0.6]])
    torch.testing.assert_close(got, expected)


def test_head_video_scores_are_topk_of_cas():
    head = _head()
    x = torch.randn(2, 16, 8)
    mask = torch.ones(2, 16, dtype=torch.bool)
    mask[1, 5:] = False
    out = head(x, mask)
    cas = out['cas']
    exp0 = cas[0].sort(dim=0, descending=True).values[:2].mean(0)
    exp1 = cas[1, :5].max(dim=0).values
    torch.testing.assert_close(out['video_scores'][0], exp0)
    torch.testing.assert_close(out['video_scores'][1], exp1)


def test_padding_invariance():
    head = _head()
    a, b = torch.randn(5, 8), torch.randn(11, 8)
    x = torch.randn(2, 11, 8) * 50
    x[0, :5], x[1] = a, b
    mask = torch.tensor([[True] * 5 + [False] * 6, [True] * 11])
    with torch.no_grad():
        batched = head(x, mask)
        alone = head(a[None], torch.ones(1, 5, dtype=torch.bool))
    for key in ('embedded', 'cas', 'bg', 'attn', 'fused_cas'):
        torch.testing.assert_close(batched[key][0, :5], alone[key][0],
                                   atol=1e-6, rtol=0)
    torch.testing.assert_close(batched['video_scores'][0],
                               alone['video_scores'][0], atol=1e-6, rtol=0)


def test_packed_head_equals_the_convolutions_over_the_padded_batch():
    torch.manual_seed(0)
    head = SnippetHead(8, 3).double().eval()
    x = torch.randn(3, 9, 8, dtype=torch.float64)
    mask = torch.arange(9)[None] < torch.tensor([9, 4, 1])[:, None]
    out = head(x, mask)
    xm = x.masked_fill(~mask[..., None], 0.0).transpose(1, 2)
    emb = head.embedding(xm)                                  # [B, D, T]
    probs = torch.sigmoid(head.classifier(emb)).transpose(1, 2)
    valid = mask[..., None]
    torch.testing.assert_close(
        out['embedded'], emb.transpose(1, 2).masked_fill(~valid, 0.0))
    torch.testing.assert_close(out['cas'],
                               probs[..., :3].masked_fill(~valid, 0.0))
    torch.testing.assert_close(out['bg'],
                               probs[..., 3].masked_fill(~mask, 0.0))
