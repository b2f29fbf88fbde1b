"""Known-answer tests of 1-D RoI-align (torchvision aligned semantics)."""
import math

import pytest
import torch

from hrpro_plugin.models.proposals.roi_align import (extend_proposals,
                                                     roi_align_1d)


def _one(values, start, end, num_bins, sr=2, length=None):
    f = torch.tensor(values, dtype=torch.float64).reshape(1, -1, 1)
    T = f.shape[1]
    m = torch.zeros(1, T, dtype=torch.bool)
    m[0, :length or T] = True
    return roi_align_1d(f, m, torch.tensor([0]), torch.tensor([start]),
                        torch.tensor([end]), num_bins, sr)[0, :, 0].tolist()


def test_hand_computation():
    # T = 4, features [1, 2, 3, 4] at coordinates 0.5, 1.5, 2.5, 3.5;
    # proposal [0, 4], 4 bins of length 1, 2 samples at +0.25 and +0.75.
    # bin 0: x = 0.25 -> y = -0.25 -> clamp 0 -> 1;
    #        x = 0.75 -> y = 0.25 -> 0.75 * 1 + 0.25 * 2 = 1.25; mean 1.125
    # bin 1: y = 0.75 -> 1.75, y = 1.25 -> 2.25; mean 2.0
    # bin 2: 3.0
    # bin 3: y = 2.75 -> 3.75; y = 3.25 -> lo = 3 = T - 1 -> 4; mean 3.875
    assert _one([1, 2, 3, 4], 0.0, 4.0, 4) == pytest.approx(
        [1.125, 2.0, 3.0, 3.875])
    # proposal [1, 2], 1 bin: x = 1.25, 1.75 -> y = 0.75, 1.25 -> 1.75, 2.25
    assert _one([1, 2, 3, 4], 1.0, 2.0, 1) == pytest.approx([2.0])
    # sampling_ratio 1: x = 1.5 -> y = 1.0 -> exactly snippet 1 -> 2
    assert _one([1, 2, 3, 4], 1.0, 2.0, 1, sr=1) == pytest.approx([2.0])


def test_zero_beyond_video():
    # proposal [4, 6], 2 bins: x = 4.25, 4.75 -> y = 3.75 (<= T: last
    # value 4), 4.25 (> T = 4: zero) -> 2.0; bin 1: y = 4.75, 5.25 -> 0
    assert _one([1, 2, 3, 4], 4.0, 6.0, 2) == pytest.approx([2.0, 0.0])
    # proposal [-2, 0]: bin 0 y = -2.25, -1.75 -> 0; bin 1 y = -1.25 -> 0,
    # y = -0.75 -> clamp 0 -> 1: 0.5
    assert _one([1, 2, 3, 4], -2.0, 0.0, 2) == pytest.approx([0.0, 0.5])
    # far away
    assert _one([1, 2, 3, 4], 10.0, 12.0, 3) == pytest.approx([0.0] * 3)


def test_padding_counts_as_beyond_video():
    # the same video padded with large values: T_b = 4
    assert _one([1, 2, 3, 4, 100, 100], 4.0, 6.0, 2, length=4) == \
        pytest.approx([2.0, 0.0])
    assert _one([1, 2, 3, 4, 100, 100], 0.0, 4.0, 4, length=4) == \
        pytest.approx([1.125, 2.0, 3.0, 3.875])


def _naive(f, length, s, e, nb, sr):
    out = []
    bl = (e - s) / nb
    for j in range(nb):
        acc = 0.0
        for k in range(sr):
            y = s + (j + (k + 0.5) / sr) * bl - 0.5
            if y < -1 or y > length or length == 0:
                continue
            y = max(y, 0.0)
            lo = math.floor(y)
            if lo >= length - 1:
                acc += f[length - 1]
            else:
                fr = y - lo
                acc += (1 - fr) * f[lo] + fr * f[lo + 1]
        out.append(acc / sr)
    return out


def test_matches_naive_and_padding_invariance():
    g = torch.Generator().manual_seed(0)
    B, T, D = 3, 20, 5
    feats = torch.randn(B, T, D, generator=g, dtype=torch.float64)
    lengths = [20, 7, 12]
    mask = torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]
    N = 40
    b = torch.randint(0, B, (N,), generator=g)
    s = torch.rand(N, generator=g, dtype=torch.float64) * 24 - 3
    e = s + torch.rand(N, generator=g, dtype=torch.float64) * 8 + 0.1
    out = roi_align_1d(feats, mask, b, s, e, num_bins=6, sampling_ratio=3)
    for i in range(N):
        for d in range(D):
            ref = _naive(feats[b[i], :, d].tolist(), lengths[b[i]],
                         float(s[i]), float(e[i]), 6, 3)
            assert out[i, :, d].tolist() == pytest.approx(ref, abs=1e-9)
    # each video alone, unpadded, gives the same rows
    for v in range(B):
        sel = b == v
        alone = roi_align_1d(feats[v:v + 1, :lengths[v]],
                             torch.ones(1, lengths[v], dtype=torch.bool),
                             torch.zeros(int(sel.sum()), dtype=torch.long),
                             s[sel], e[sel], 6, 3)
        assert torch.allclose(alone, out[sel])
    # garbage in the padding changes nothing
    noisy = torch.where(mask[..., None], feats, torch.full_like(feats, 1e6))
    assert torch.allclose(roi_align_1d(noisy, mask, b, s, e, 6, 3), out)


def test_shapes_empty_and_grad():
    feats = torch.randn(2, 5, 3, requires_grad=True)
    mask = torch.ones(2, 5, dtype=torch.bool)
    out = roi_align_1d(feats, mask, torch.tensor([0, 1]),
                       torch.tensor([0.0, 1.0]), torch.tensor([5.0, 3.0]))
    assert out.shape == (2, 12, 3) and out.dtype == torch.float32
    out.sum().backward()
    assert feats.grad.abs().sum() > 0
    empty = roi_align_1d(feats, mask, torch.zeros(0, dtype=torch.long),
                         torch.zeros(0), torch.zeros(0))
    assert empty.shape == (0, 12, 3)
    # a video of length 0 reads zeros
    z = roi_align_1d(feats.detach(), torch.zeros(2, 5, dtype=torch.bool),
                     torch.tensor([0]), torch.tensor([0.0]), torch.tensor([2.0]),
                     num_bins=2)
    assert torch.equal(z, torch.zeros(1, 2, 3))


def test_extend():
    s, e = extend_proposals(torch.tensor([4.0, 0.0]), torch.tensor([8.0, 2.0]))
    assert s.tolist() == [3.0, -0.5] and e.tolist() == [9.0, 2.5]
    s, e = extend_proposals(torch.tensor([1.0]), torch.tensor([3.0]), 0.5)
    assert s.tolist() == [0.0] and e.tolist() == [4.0]
