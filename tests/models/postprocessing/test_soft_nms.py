"""Tests of the batched class-wise Gaussian soft-NMS (docs/method.md, "Inference")."""
import math

import numpy as np
import pytest
import torch

from hrpro_plugin.models.postprocessing.soft_nms import (SoftNMSPostProcessor,
                                                    batched_soft_nms,
                                                    soft_nms_reference)


def _random(n, n_videos, n_classes, seed, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    s = torch.rand(n, generator=g, dtype=dtype) * 20
    w = torch.rand(n, generator=g, dtype=dtype) * 5 + 0.1
    seg = torch.stack([s, s + w], 1)
    scores = torch.rand(n, generator=g, dtype=dtype) * 0.9 + 0.1
    labels = torch.randint(0, n_classes, (n,), generator=g)
    batch = torch.randint(0, n_videos, (n,), generator=g)
    return seg, scores, labels, batch


def test_reference_by_hand():
    seg = np.array([[0., 2.], [1., 3.], [10., 11.]])
    order, final = soft_nms_reference(seg, [0.9, 0.8, 0.5], 0.3)
    # tIoU([0,2],[1,3]) = 1/3 -> 0.8 * exp(-(1/9) / 0.3)
    assert order.tolist() == [0, 1, 2]
    np.testing.assert_allclose(final, [0.9, 0.8 * math.exp(-1 / 2.7), 0.5])


def test_matches_reference_random():
    for seed, (n, nv, nc) in enumerate([(300, 4, 5), (120, 1, 1), (57, 3, 8)]):
        seg, scores, labels, batch = _random(n, nv, nc, seed)
        keep, new = batched_soft_nms(seg, scores, labels, batch, sigma=0.3)
        assert keep.numel() == n and sorted(keep.tolist()) == list(range(n))
        assert new.dtype == scores.dtype
        b = batch[keep]
        assert (b[1:] >= b[:-1]).all()
        same = b[1:] == b[:-1]
        assert (new[1:][same] <= new[:-1][same]).all()
        n_groups = 0
        for v in range(nv):
            for c in range(nc):
                members = torch.nonzero((batch == v) & (labels == c)).flatten()
                if members.numel() == 0:
                    continue
                n_groups += 1
                order, final = soft_nms_reference(seg[members].numpy(),
                                                  scores[members].numpy(), 0.3)
                in_group = ((batch[keep] == v) & (labels[keep] == c))
                got_idx = keep[in_group]
                got_sc = new[in_group]
                assert got_idx.tolist() == members[order].tolist()
                np.testing.assert_allclose(got_sc.numpy(), final, rtol=0,
                                           atol=1e-6)
        assert n_groups > 3 or nc == 1


def test_matches_reference_skewed_groups():
    """Groups of 1, 2, 7 and 90 proposals (the large group keeps running
    after the small ones end), with a zero-length segment, an exact
    duplicate and negative scores (decay raises them towards 0)."""
    seg, scores, _, _ = _random(100, 1, 1, 11)
    seg[3] = torch.tensor([5.0, 5.0])                  # zero length
    seg[4], scores[4] = seg[5].clone(), scores[5]      # duplicate
    scores[10:20] -= 0.6                               # some negative
    labels = torch.tensor([0] * 90 + [1] * 7 + [2] * 2 + [3])
    batch = torch.zeros(100, dtype=torch.long)
    keep, new = batched_soft_nms(seg, scores, labels, batch, sigma=0.3)
    assert sorted(keep.tolist()) == list(range(100))
    for c in range(4):
        members = torch.nonzero(labels == c).flatten()
        order, final = soft_nms_reference(seg[members].numpy(),
                                          scores[members].numpy(), 0.3)
        got = keep[labels[keep] == c]
        got_sc = new[labels[keep] == c]
        # output order is by final score; the reference's selection order
        # only differs where negative scores rose (ties broken the same way)
        ref_order = np.lexsort((np.arange(len(final)), -final))
        assert got.tolist() == members[order[ref_order]].tolist()
        np.testing.assert_allclose(got_sc.numpy(), final[ref_order], rtol=0,
                                   atol=1e-12)


def test_float32_close_to_reference():
    seg, scores, labels, batch = _random(80, 2, 3, 5, dtype=torch.float32)
    keep, new = batched_soft_nms(seg, scores, labels, batch)
    assert new.dtype == torch.float32
    for v in range(2):
        for c in range(3):
            members = torch.nonzero((batch == v) & (labels == c)).flatten()
            order, final = soft_nms_reference(seg[members].numpy(),
                                              scores[members].numpy(), 0.3)
            sel = (batch[keep] == v) & (labels[keep] == c)
            np.testing.assert_allclose(np.sort(new[sel].numpy()),
                                       np.sort(final), atol=1e-6)


def test_classes_and_videos_do_not_suppress_each_other():
    seg = torch.tensor([[0., 4.], [0., 4.], [0., 4.], [0., 4.]])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    labels = torch.tensor([0, 1, 0, 0])
    batch = torch.tensor([0, 0, 1, 0])
    keep, new = batched_soft_nms(seg, scores, labels, batch)
    # only index 3 (video 0, class 0) overlaps a higher one of its group (0):
    # tIoU 1 -> 0.6 * exp(-1 / 0.3)
    assert keep.tolist() == [0, 1, 3, 2]
    torch.testing.assert_close(
        new, torch.tensor([0.9, 0.8, 0.6 * math.exp(-1 / 0.3), 0.7]))


def test_top_k_and_min_score():
    seg, scores, labels, batch = _random(200, 3, 4, 42)
    keep_all, new_all = batched_soft_nms(seg, scores, labels, batch)
    keep, new = batched_soft_nms(seg, scores, labels, batch, top_k=7)
    exp_idx, exp_sc = [], []
    for v in range(3):
        sel = batch[keep_all] == v
        exp_idx += keep_all[sel][:7].tolist()
        exp_sc += new_all[sel][:7].tolist()
    assert keep.tolist() == exp_idx
    assert new.tolist() == exp_sc
    assert torch.bincount(batch[keep]).tolist() == [7, 7, 7]

    keep, new = batched_soft_nms(seg, scores, labels, batch, min_score=0.3)
    ok = new_all >= 0.3
    assert keep.tolist() == keep_all[ok].tolist()
    assert (new >= 0.3).all() and (~ok).any()

    keep, new = batched_soft_nms(seg, scores, labels, batch, top_k=5,
                                 min_score=0.5)
    for v in range(3):
        sel = (batch[keep_all] == v) & (new_all >= 0.5)
        assert keep[batch[keep] == v].tolist() == keep_all[sel][:5].tolist()


# Three overlapping segments of one (video, class), sigma 0.3:
#   pick [0, 4] (0.9); tIoU([0, 4], [1, 5]) = 3 / 5 = 0.6 -> 0.8 exp(-0.36
#   / 0.3) = 0.2409553695; tIoU([0, 4], [2, 3]) = 1 / 4 -> 0.7 exp(-0.0625
#   / 0.3) = 0.5683554423;
#   pick [2, 3] (0.5684 > 0.2410): tIoU([2, 3], [1, 5]) = 1 / 4 -> 0.2409553695
#   exp(-0.0625 / 0.3) = 0.1956404223;
#   pick [1, 5]. Selection order 0, 2, 1: the second box is decayed below
#   the third.
TRIPLE = [[0.0, 4.0], [1.0, 5.0], [2.0, 3.0]]
TRIPLE_SCORES = [0.9, 0.8, 0.7]
A, B = 0.7 * math.exp(-0.0625 / 0.3), 0.8 * math.exp(-1.2 - 0.0625 / 0.3)


def test_three_segments_by_hand():
    assert (A, B) == pytest.approx((0.5683554423, 0.1956404223))
    keep, new = batched_soft_nms(torch.tensor(TRIPLE, dtype=torch.float64),
                                 torch.tensor(TRIPLE_SCORES,
                                              dtype=torch.float64),
                                 torch.zeros(3, dtype=torch.long),
                                 torch.zeros(3, dtype=torch.long), sigma=0.3)
    assert keep.tolist() == [0, 2, 1]
    assert new.tolist() == pytest.approx([0.9, A, B], abs=1e-12)


def _interleaved():
    """The triple three times, rows interleaved: (video 0, class 0) at rows
    0, 3, 6; (video 1, class 0) at 1, 4, 7; (video 0, class 1) at 2, 5, 8."""
    seg = torch.tensor([s for s in TRIPLE for _ in range(3)],
                       dtype=torch.float64)
    scores = torch.tensor([x for x in TRIPLE_SCORES for _ in range(3)],
                          dtype=torch.float64)
    labels = torch.tensor([0, 0, 1] * 3)
    batch = torch.tensor([0, 1, 0] * 3)
    return seg, scores, labels, batch


def test_class_and_video_separation_by_hand():
    """Each (video, class) group decays only its own members, so every group
    gets the triple's numbers; the output is by video, then final score,
    then group (video 0 class 0 before class 1), then index. (Suppression
    across classes would decay video 0's second 0.9 to 0.9 exp(-1 / 0.3).)"""
    keep, new = batched_soft_nms(*_interleaved(), sigma=0.3)
    assert keep.tolist() == [0, 2, 6, 8, 3, 5, 1, 7, 4]
    assert new.tolist() == pytest.approx([0.9, 0.9, A, A, B, B, 0.9, A, B],
                                         abs=1e-12)


def test_top_k_and_min_score_by_hand():
    seg, scores, labels, batch = _interleaved()
    # top_k per video, by final score: video 0 [0, 2], video 1 [1, 7]
    keep, new = batched_soft_nms(seg, scores, labels, batch, top_k=2)
    assert keep.tolist() == [0, 2, 1, 7]
    assert new.tolist() == pytest.approx([0.9, 0.9, 0.9, A], abs=1e-12)
    # min_score on the final scores: B = 0.196 < 0.5 <= A = 0.568
    keep, new = batched_soft_nms(seg, scores, labels, batch, min_score=0.5)
    assert keep.tolist() == [0, 2, 6, 8, 1, 7]
    # both: the floor first (0.6 > A), then at most 3 a video
    keep, new = batched_soft_nms(seg, scores, labels, batch, top_k=3,
                                 min_score=0.6)
    assert keep.tolist() == [0, 2, 1]
    keep, new = batched_soft_nms(seg, scores, labels, batch, top_k=1,
                                 min_score=0.5)
    assert keep.tolist() == [0, 1]


def test_registered_post_processor_by_hand():
    """Built from the registry, the post-processor applies its own sigma,
    top_k and length_offset. Class 0: [0, 2], [1, 3]; class 1: [0, 2],
    [2, 4]; scores 0.9, 0.8 in each.
      offset 0, sigma 0.3: class 0 tIoU 1 / 3 -> 0.8 exp(-(1/9) / 0.3) =
        0.5523828404; class 1 touching, tIoU 0 -> 0.8
      offset 0, sigma 0.5: class 0 -> 0.8 exp(-(1/9) / 0.5) = 0.6405899223
      offset 1 (lengths e - s + 1 = 3, intersection e - s + 1): class 0
        inter 2, union 4, tIoU 0.5 -> 0.8 exp(-0.25 / 0.3) = 0.3476785668;
        class 1 inter 1, union 5, tIoU 0.2 -> 0.8 exp(-0.04 / 0.3) =
        0.7001386552
    """
    from mmaction.registry import MODELS
    seg = torch.tensor([[0., 2.], [1., 3.], [0., 2.], [2., 4.]],
                       dtype=torch.float64)
    scores = torch.tensor([0.9, 0.8, 0.9, 0.8], dtype=torch.float64)
    labels = torch.tensor([0, 0, 1, 1])
    batch = torch.zeros(4, dtype=torch.long)
    cases = [
        (dict(), [0, 2, 3, 1], [0.9, 0.9, 0.8, 0.5523828404]),
        (dict(sigma=0.5), [0, 2, 3, 1], [0.9, 0.9, 0.8, 0.6405899223]),
        (dict(length_offset=1), [0, 2, 3, 1],
         [0.9, 0.9, 0.7001386552, 0.3476785668]),
        (dict(top_k=3), [0, 2, 3], [0.9, 0.9, 0.8]),
    ]
    for kwargs, want_keep, want_scores in cases:
        post = MODELS.build(dict(type='SoftNMSPostProcessor', **kwargs))
        assert isinstance(post, SoftNMSPostProcessor)
        keep, new = post(seg, scores, labels, batch)
        assert keep.tolist() == want_keep, kwargs
        assert new.tolist() == pytest.approx(want_scores, abs=1e-9), kwargs


def test_empty():
    keep, new = batched_soft_nms(torch.zeros(0, 2), torch.zeros(0),
                                 torch.zeros(0, dtype=torch.long),
                                 torch.zeros(0, dtype=torch.long))
    assert keep.numel() == 0 and new.numel() == 0
