"""Known answers of ``blocked_dropout_attention``: a case worked by hand,
the explicit softmax(q k^T / sqrt(d) + mask) * keep / (1 - p) @ v written
out, gradients (gradcheck in float64, and against autograd of the written
out formula), masked keys, padded queries and fully masked videos."""
import math

import pytest
import torch
import torch.nn.functional as F

from hrpro_plugin.ops import blocked_dropout_attention


def _explicit(q, k, v, key_mask, keep, p):
    """The formula, written out: scores, -inf on masked keys, softmax,
    dropout with ``keep`` and 1 / (1 - p), weighted sum of v."""
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    scores = scores.masked_fill(~key_mask, float('-inf'))
    return (torch.softmax(scores, -1) * keep / (1 - p)) @ v


def _inputs(seed, B=2, H=3, L=11, d=4, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(B, H, L, d, generator=g, dtype=dtype)
               for _ in range(3))
    keep = torch.rand(B, H, L, L, generator=g) > 0.2
    key_mask = torch.ones(B, 1, 1, L, dtype=torch.bool)
    key_mask[-1, ..., L - 4:] = False           # last video: 4 padded keys
    return q, k, v, key_mask, keep


def _ones(L):
    return torch.ones(1, 1, L, L, dtype=torch.bool)


def test_hand_computed_case():
    # d = 1, L = 2: scores q_i * k_j. k = (ln 3, 0), v = (4, 8).
    # query 0 (q = 1): softmax(ln 3, 0) = (3/4, 1/4) -> 3 + 2 = 5
    # query 1 (q = 0): softmax(0, 0) = (1/2, 1/2) -> 2 + 4 = 6
    def column(*x):
        return torch.tensor(x, dtype=torch.float64).view(1, 1, 2, 1)

    q, k, v = column(1.0, 0.0), column(math.log(3.0), 0.0), column(4.0, 8.0)
    all_keys = torch.ones(1, 1, 1, 2, dtype=torch.bool)
    out = blocked_dropout_attention(q, k, v, all_keys, _ones(2), 0.0)
    torch.testing.assert_close(out.flatten(), torch.tensor(
        [5.0, 6.0], dtype=torch.float64), atol=1e-12, rtol=0)
    # key 1 masked: all weight on key 0 -> 4 for both queries
    first = torch.tensor([True, False]).view(1, 1, 1, 2)
    out = blocked_dropout_attention(q, k, v, first, _ones(2), 0.0)
    torch.testing.assert_close(out.flatten(), torch.tensor(
        [4.0, 4.0], dtype=torch.float64), atol=1e-12, rtol=0)
    # dropout p = 1/2 drops weight (0, 0): query 0 -> (1/4 * 8) / (1/2) = 4;
    # query 1 keeps both: (2 + 4) / (1/2) = 12
    keep = torch.tensor([[False, True], [True, True]]).view(1, 1, 2, 2)
    out = blocked_dropout_attention(q, k, v, all_keys, keep, 0.5)
    torch.testing.assert_close(out.flatten(), torch.tensor(
        [4.0, 12.0], dtype=torch.float64), atol=1e-12, rtol=0)


@pytest.mark.parametrize('block', [None, 1, 4, 11, 50])
def test_forward_matches_written_out(block):
    q, k, v, key_mask, keep = _inputs(0)
    out = blocked_dropout_attention(q, k, v, key_mask, keep, 0.2, block)
    torch.testing.assert_close(out, _explicit(q, k, v, key_mask, keep, 0.2),
                               atol=1e-12, rtol=1e-12)


def test_without_dropout_equals_sdpa():
    q, k, v, key_mask, _ = _inputs(1, dtype=torch.float32)
    keep = torch.ones(2, 3, 11, 11, dtype=torch.bool)
    out = blocked_dropout_attention(q, k, v, key_mask, keep, 0.0, block=3)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask)
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=1e-5)


def test_gradcheck_float64():
    q, k, v, key_mask, keep = _inputs(2, B=2, H=2, L=6, d=3)
    q, k, v = (t.requires_grad_(True) for t in (q, k, v))
    # block 4: two blocks of query rows, the second one partial
    assert torch.autograd.gradcheck(
        lambda q, k, v: blocked_dropout_attention(q, k, v, key_mask, keep,
                                                  0.3, block=4),
        (q, k, v), eps=1e-6, atol=1e-8, rtol=1e-6)


def test_gradients_match_autograd_of_written_out():
    q, k, v, key_mask, keep = _inputs(3)
    q, k, v = (t.requires_grad_(True) for t in (q, k, v))
    weight = torch.randn(q.shape, dtype=torch.float64,
                         generator=torch.Generator().manual_seed(4))
    out = blocked_dropout_attention(q, k, v, key_mask, keep, 0.2, block=4)
    grads = torch.autograd.grad((out * weight).sum(), (q, k, v))
    ref = _explicit(q, k, v, key_mask, keep, 0.2)
    ref_grads = torch.autograd.grad((ref * weight).sum(), (q, k, v))
    for got, want in zip(grads, ref_grads):
        torch.testing.assert_close(got, want, atol=1e-12, rtol=1e-10)


def test_masked_keys_do_not_matter():
    """Keys and values at masked (padded) positions change nothing and get
    no gradient; queries at padded positions still attend to the valid keys
    (the neck zeroes those rows afterwards)."""
    q, k, v, key_mask, keep = _inputs(5)
    k2, v2 = k.clone(), v.clone()
    k2[-1, :, 7:] = 1e3 * torch.randn(3, 4, 4, dtype=torch.float64)
    v2[-1, :, 7:] = 1e3
    out = blocked_dropout_attention(q, k, v, key_mask, keep, 0.2, block=4)
    out2 = blocked_dropout_attention(q, k2, v2, key_mask, keep, 0.2, block=4)
    torch.testing.assert_close(out, out2, atol=1e-12, rtol=0)
    # padded query rows: finite, and the written-out values
    assert torch.isfinite(out[-1, :, 7:]).all()
    k.requires_grad_(True)
    v.requires_grad_(True)
    out = blocked_dropout_attention(q, k, v, key_mask, keep, 0.2, block=4)
    dk, dv = torch.autograd.grad(out.sum(), (k, v))
    assert torch.all(dk[-1, :, 7:] == 0) and torch.all(dv[-1, :, 7:] == 0)
    assert dk[-1, :, :7].abs().sum() > 0 and dv[-1, :, :7].abs().sum() > 0


def test_fully_masked_video_gives_zeros_like_sdpa():
    """A video with no allowed key: zero output and zero gradients (SDPA
    gives zeros too), and the other video is unaffected."""
    q, k, v, key_mask, keep = _inputs(6, B=2, H=2, L=6, d=3)
    key_mask[0] = False
    q, k, v = (t.requires_grad_(True) for t in (q, k, v))
    out = blocked_dropout_attention(q, k, v, key_mask, keep, 0.2, block=4)
    assert torch.all(out[0] == 0)
    sdpa = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask)
    assert torch.all(sdpa[0] == 0)
    ref = _explicit(q, k, v, key_mask, keep, 0.2)
    torch.testing.assert_close(out[1], ref[1], atol=1e-12, rtol=1e-12)
    grads = torch.autograd.grad((out * torch.randn_like(out)).sum(),
                                (q, k, v))
    for g in grads:
        assert torch.isfinite(g).all()
        assert torch.all(g[0] == 0)
        assert g[1].abs().sum() > 0
    assert torch.autograd.gradcheck(
        lambda q, k, v: blocked_dropout_attention(q, k, v, key_mask, keep,
                                                  0.2, block=4),
        (q, k, v), eps=1e-6, atol=1e-8, rtol=1e-6)


def test_bad_keep_mask_or_p_is_rejected():
    q, k, v, key_mask, keep = _inputs(7)
    with pytest.raises(ValueError, match='keep must be a bool'):
        blocked_dropout_attention(q, k, v, key_mask, keep.double(), 0.2)
    with pytest.raises(ValueError, match='keep must be a bool'):
        blocked_dropout_attention(q, k, v, key_mask, keep[:, :1], 0.2)
    with pytest.raises(ValueError, match='p must be in'):
        blocked_dropout_attention(q, k, v, key_mask, keep, 1.0)
