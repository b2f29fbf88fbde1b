import math

import torch

from hrpro_plugin.models.snippet_level.rab_neck import RABNeck


def _neck(**kw):
    torch.manual_seed(0)
    cfg = dict(in_channels=16, num_classes=3, num_heads=4, ffn_channels=8)
    cfg.update(kw)
    return RABNeck(**cfg)


def test_output_shape_and_zero_padding():
    neck = _neck()
    x = torch.randn(2, 7, 16)
    mask = torch.tensor([[True] * 7, [True] * 4 + [False] * 3])
    out = neck(x, mask, torch.randn(3, 16))
    assert out.shape == (2, 7, 16)
    assert torch.all(out[1, 4:] == 0)
    # training mode (dropouts active) runs and back-propagates
    neck.train()
    neck(x, mask, torch.randn(3, 16)).sum().backward()
    assert neck.blocks[0].q_conv.weight.grad is not None


def test_padding_invariance():
    neck = _neck().eval()
    protos = torch.randn(3, 16)
    a, b = torch.randn(5, 16), torch.randn(9, 16)
    x = torch.randn(2, 9, 16) * 100  # garbage in the padding
    x[0, :5], x[1] = a, b
    mask = torch.tensor([[True] * 5 + [False] * 4, [True] * 9])
    with torch.no_grad():
        batched = neck(x, mask, protos)
        alone_a = neck(a[None], torch.ones(1, 5, dtype=torch.bool), protos)
        alone_b = neck(b[None], torch.ones(1, 9, dtype=torch.bool), protos)
    torch.testing.assert_close(batched[0, :5], alone_a[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(batched[1], alone_b[0], atol=1e-5, rtol=0)
    assert torch.all(batched[0, 5:] == 0)


def test_prototype_tokens_matter():
    neck = _neck().eval()
    x, mask = torch.randn(1, 6, 16), torch.ones(1, 6, dtype=torch.bool)
    with torch.no_grad():
        o1 = neck(x, mask, torch.randn(3, 16))
        o2 = neck(x, mask, torch.randn(3, 16))
    assert (o1 - o2).abs().max() > 1e-3


def test_without_prototypes_ignores_them():
    neck = _neck(use_prototypes=False).eval()
    x, mask = torch.randn(1, 6, 16), torch.ones(1, 6, dtype=torch.bool)
    with torch.no_grad():
        o0 = neck(x, mask, None)
        o1 = neck(x, mask, torch.randn(3, 16))
    torch.testing.assert_close(o0, o1, atol=0, rtol=0)


def _explicit_block(blk, x, key_valid):
    """softmax(q k^T / sqrt(d_h)) v per head, written out."""
    xt = x.transpose(1, 2)
    q = blk.q_proj(blk.q_conv(xt).transpose(1, 2))
    k = blk.k_proj(blk.k_conv(xt).transpose(1, 2))
    v = blk.v_proj(x)
    b, n, d = x.shape
    h, dh = blk.num_heads, d // blk.num_heads
    q = q.view(b, n, h, dh).transpose(1, 2)
    k = k.view(b, n, h, dh).transpose(1, 2)
    v = v.view(b, n, h, dh).transpose(1, 2)
    s = q @ k.transpose(-1, -2) / math.sqrt(dh)
    s = s.masked_fill(~key_valid[:, None, None, :], float('-inf'))
    a = torch.softmax(s, dim=-1) @ v
    a = blk.out_proj(a.transpose(1, 2).reshape(b, n, d))
    x = blk.norm1(x + a)
    return blk.norm2(x + blk.ffn(x))


def test_sdpa_matches_explicit_attention():
    neck = _neck(in_channels=8, num_classes=2, num_heads=2,
                 num_blocks=2).eval()
    x = torch.randn(2, 4, 8)
    mask = torch.tensor([[True] * 4, [True, True, False, False]])
    protos = torch.randn(2, 8)
    with torch.no_grad():
        out = neck(x, mask, protos)
        # explicit: tokens = snippets (padding zeroed) + the 2 prototypes,
        # both blocks see all T + C tokens, only T snippet tokens returned
        seq = torch.cat([x.masked_fill(~mask[..., None], 0),
                         protos[None].expand(2, -1, -1)], dim=1)
        key_valid = torch.cat([mask, torch.ones(2, 2, dtype=torch.bool)], 1)
        for blk in neck.blocks:
            seq = _explicit_block(blk, seq, key_valid)
        ref = seq[:, :4].masked_fill(~mask[..., None], 0)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_grouped_equals_one_padded_call():
    protos = torch.randn(3, 16)
    grouped = _neck(group_cost_ratio=1.0).eval()
    padded = _neck(group_cost_ratio=None).eval()
    lengths = torch.tensor([12, 3, 7, 12])
    x = torch.randn(4, 12, 16)
    mask = torch.arange(12)[None] < lengths[:, None]
    with torch.no_grad():
        torch.testing.assert_close(grouped(x, mask, protos),
                                   padded(x, mask, protos),
                                   atol=1e-5, rtol=0)
    # gradients reach every video through the grouped path
    x.requires_grad_(True)
    grouped.train()
    # (a weighted sum: the plain sum of LayerNorm outputs has ~0 gradient)
    (grouped(x, mask, protos) * torch.randn(4, 12, 16)).sum().backward()
    assert torch.all(x.grad[mask].abs().sum(-1) > 1e-3)
    assert torch.all(x.grad[~mask] == 0)


def test_group_cost_ratio_below_one_is_rejected():
    import pytest
    with pytest.raises(ValueError, match='group_cost_ratio'):
        _neck(group_cost_ratio=0.5)


def test_cpu_training_attention_is_the_dropped_out_softmax():
    """On CPU in training mode the block runs the blocked kernel with a
    dropout mask drawn by ``dropout_keep_mask`` over ``[B, H, L, L]``: the
    same as softmax(q k^T / sqrt(d_h), masked keys excluded) * keep / (1 - p)
    @ v written out with that mask. (The kernel itself: tests/ops.)"""
    from hrpro_plugin.models.dropout import dropout_keep_mask
    from hrpro_plugin.models.snippet_level.rab_neck import RABlock
    torch.manual_seed(0)
    blk = RABlock(8, num_heads=2, attn_drop=0.25).double().train()
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    key_valid = torch.tensor([[True] * 5, [True, True, True, False, False]])
    torch.manual_seed(3)
    out = blk.attention(x, key_valid)
    torch.manual_seed(3)
    keep = dropout_keep_mask((2, 2, 5, 5), 0.25, torch.device('cpu'))
    q, k, v = torch.nn.functional.linear(x, *blk._qkv_weights()).chunk(3, -1)
    q, k, v = (t.view(2, 5, 2, 4).transpose(1, 2) for t in (q, k, v))
    w = (q @ k.transpose(-1, -2) / 2.0).masked_fill(
        ~key_valid[:, None, None, :], float('-inf'))
    ref = (w.softmax(-1) * keep / 0.75) @ v
    ref = blk.out_proj(ref.transpose(1, 2).reshape(2, 5, 8))
    torch.testing.assert_close(out, ref, atol=1e-12, rtol=1e-12)


def test_fused_qkv_projection_equals_conv_then_linear():
    from hrpro_plugin.models.snippet_level.rab_neck import RABlock
    torch.manual_seed(0)
    block = RABlock(16, num_heads=4).double()
    x = torch.randn(2, 7, 16, dtype=torch.float64)
    q, k, v = torch.nn.functional.linear(x, *block._qkv_weights()).chunk(3,
                                                                          -1)
    xt = x.transpose(1, 2)
    torch.testing.assert_close(
        q, block.q_proj(block.q_conv(xt).transpose(1, 2)))
    torch.testing.assert_close(
        k, block.k_proj(block.k_conv(xt).transpose(1, 2)))
    torch.testing.assert_close(v, block.v_proj(x))
    # the conv weights still get their gradients
    q.sum().backward()
    assert block.q_conv.weight.grad.abs().sum() > 0
    assert torch.all(block.k_conv.weight.grad == 0)   # q does not use k
