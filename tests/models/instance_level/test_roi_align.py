"""Known-answer tests of 1-D RoI-align (the reference's zero-padded,
adaptively sampled operator; tests/parity pins it to the reference)."""
import pytest
import torch

from hrpro_plugin.models.instance_level.roi_align import (extend_proposals,
                                                     roi_align_1d)


def _one(values, start, end, num_bins, sr=2, length=None, min_length=1.0):
    f = torch.tensor(values, dtype=torch.float64).reshape(1, -1, 1)
    T = f.shape[1]
    m = torch.zeros(1, T, dtype=torch.bool)
    m[0, :length or T] = True
    return roi_align_1d(f, m, torch.tensor([0]), torch.tensor([start]),
                        torch.tensor([end]), num_bins, sr,
                        min_length)[0, :, 0].tolist()


def test_hand_computation():
    # T = 4, features [1, 2, 3, 4] at coordinates 0.5, 1.5, 2.5, 3.5; index
    # -1 and 4 read 0 (zero padding). Proposal [0, 4], 4 bins of length 1,
    # 2 samples at +0.25 and +0.75 (fixed sampling_ratio 2):
    # bin 0: y = -0.25 -> 0.25 * 0 + 0.75 * 1 = 0.75; y = 0.25 -> 1.25;
    #        mean 1.0
    # bin 1: 1.75, 2.25 -> 2.0;  bin 2: 3.0
    # bin 3: y = 2.75 -> 3.75; y = 3.25 -> 0.75 * 4 + 0.25 * 0 = 3.0; 3.375
    assert _one([1, 2, 3, 4], 0.0, 4.0, 4) == pytest.approx(
        [1.0, 2.0, 3.0, 3.375])
    # proposal [1, 2], 1 bin: x = 1.25, 1.75 -> y = 0.75, 1.25 -> 1.75, 2.25
    assert _one([1, 2, 3, 4], 1.0, 2.0, 1) == pytest.approx([2.0])
    # sampling_ratio 1: x = 1.5 -> y = 1.0 -> exactly snippet 1 -> 2
    assert _one([1, 2, 3, 4], 1.0, 2.0, 1, sr=1) == pytest.approx([2.0])


def test_adaptive_sampling_and_minimum_length():
    # adaptive (default): [0, 8] in 2 bins of 4 -> 4 samples a bin at
    # x = 0.5, 1.5, ...: y = 0, 1, 2, 3 and 4, 5, 6, 7: plain means
    vals = [1, 2, 3, 4, 5, 6, 7, 8]
    assert _one(vals, 0.0, 8.0, 2, sr=None) == pytest.approx([2.5, 6.5])
    # shifted by half a snippet: y = 0.5 ... 7.5, the last half-way to 0
    assert _one(vals, 0.5, 8.5, 2, sr=None) == pytest.approx([3.0, 5.875])
    # [2.5, 2.5] (empty) is read as [2.5, 3.5]: 1 bin, 1 sample at x = 3,
    # y = 2.5 -> (3 + 4) / 2
    assert _one(vals, 2.5, 2.5, 1, sr=None) == pytest.approx([3.5])
    # 0.2 long -> also 1 long
    assert _one(vals, 2.5, 2.7, 1, sr=None) == pytest.approx([3.5])
    # min_length=0 keeps the short RoI: one sample at x = 2.6, y = 2.1
    assert _one(vals, 2.5, 2.7, 1, sr=None, min_length=0.0) == \
        pytest.approx([3.1])


def test_zero_beyond_video():
    # proposal [4, 6], 2 bins: x = 4.25, 4.75 -> y = 3.75 -> 0.25 * 4 = 1,
    # y = 4.25 -> 0: bin 0 = 0.5; bin 1: y = 4.75, 5.25 -> 0
    assert _one([1, 2, 3, 4], 4.0, 6.0, 2) == pytest.approx([0.5, 0.0])
    # proposal [-2, 0]: bin 1 y = -1.25 -> 0, y = -0.75 -> 0.25 * 1: 0.125
    assert _one([1, 2, 3, 4], -2.0, 0.0, 2) == pytest.approx([0.0, 0.125])
    # far away
    assert _one([1, 2, 3, 4], 10.0, 12.0, 3) == pytest.approx([0.0] * 3)


def test_padding_counts_as_beyond_video():
    # the same video padded with large values: T_b = 4
    assert _one([1, 2, 3, 4, 100, 100], 4.0, 6.0, 2, length=4) == \
        pytest.approx([0.5, 0.0])
    assert _one([1, 2, 3, 4, 100, 100], 0.0, 4.0, 4, length=4) == \
        pytest.approx([1.0, 2.0, 3.0, 3.375])


def test_padding_invariance():
    g = torch.Generator().manual_seed(0)
    B, T, D = 3, 20, 5
    feats = torch.randn(B, T, D, generator=g, dtype=torch.float64)
    lengths = [20, 7, 12]
    mask = torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]
    N = 40
    b = torch.randint(0, B, (N,), generator=g)
    s = torch.rand(N, generator=g, dtype=torch.float64) * 24 - 3
    e = s + torch.rand(N, generator=g, dtype=torch.float64) * 30 + 0.1
    out = roi_align_1d(feats, mask, b, s, e, num_bins=6)
    # each video alone, unpadded, gives the same rows
    for v in range(B):
        sel = b == v
        alone = roi_align_1d(feats[v:v + 1, :lengths[v]],
                             torch.ones(1, lengths[v], dtype=torch.bool),
                             torch.zeros(int(sel.sum()), dtype=torch.long),
                             s[sel], e[sel], 6)
        assert torch.allclose(alone, out[sel])
    # garbage in the padding changes nothing
    noisy = torch.where(mask[..., None], feats, torch.full_like(feats, 1e6))
    assert torch.allclose(roi_align_1d(noisy, mask, b, s, e, 6), out)


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
