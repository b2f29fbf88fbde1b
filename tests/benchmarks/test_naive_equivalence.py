"""The naive references of benchmarks/_naive.py agree with our batched
candidate generation and soft-NMS on small random inputs, and the
comparisons benchmarks/speed.py relies on catch a difference."""
import numpy as np
import pytest
import torch

from hrpro_plugin.models.proposals.candidates import (ATTN_THRESHOLDS,
                                                      CAS_THRESHOLDS,
                                                      generate_candidates)
from hrpro_plugin.models.postprocessing.soft_nms import batched_soft_nms

from _helpers import load_script

naive = load_script('benchmarks/_naive.py', 'hrpro_bench_naive')

CFG = dict(cas_thresholds=list(CAS_THRESHOLDS),
           attn_thresholds=list(ATTN_THRESHOLDS), class_thresh=0.5,
           outer_ratio=0.25, scale=2)


def _smooth(rng, n, k, width=3.0):
    x = rng.standard_normal((n + 20, k))
    ker = np.exp(-0.5 * (np.arange(-9, 10) / width)**2)
    out = np.stack([np.convolve(x[:, j], ker, 'same') for j in range(k)], 1)
    return out[10:10 + n] / ker.sum()**0.5


def _batch(seed, lengths, C, quantize=False):
    """Padded fused CAS / attention / video scores of len(lengths) videos."""
    rng = np.random.default_rng(seed)
    B, T = len(lengths), max(lengths)
    cas = np.zeros((B, T, C), np.float32)
    attn = np.zeros((B, T), np.float32)
    for b, L in enumerate(lengths):
        a = 1 / (1 + np.exp(-2.5 * _smooth(rng, L, 1)[:, 0]))
        s = 1 / (1 + np.exp(-2.5 * _smooth(rng, L, C) - 1))
        if quantize:  # values on the threshold grid: ties with thresholds
            a = np.round(a * 40) / 40
            s = np.round(s * 40) / 40
        attn[b, :L] = a
        cas[b, :L] = s * a[:, None]
    vs = rng.uniform(0, 1, (B, C)).astype(np.float32)
    vs[0] = 0.3  # a video where no class passes: top class only
    vs[0, 1] = 0.31
    return cas, attn, vs, np.asarray(lengths)


@pytest.mark.parametrize('seed,quantize', [(0, False), (1, True), (2, False)])
def test_candidates_agree(seed, quantize):
    cas, attn, vs, lengths = _batch(seed, [37, 5, 60, 1], C=4,
                                    quantize=quantize)
    mask = torch.arange(cas.shape[1])[None] < torch.as_tensor(lengths)[:, None]
    ours = generate_candidates(torch.from_numpy(cas), torch.from_numpy(attn),
                               torch.from_numpy(vs), mask, **CFG)
    ref = naive.naive_generate_candidates(cas, attn, vs, lengths, **CFG)
    assert len(ref['score']) > 50
    assert naive.compare_candidates({k: v.numpy() for k, v in ours.items()},
                                    ref) <= 1e-5


def test_candidate_comparison_catches_differences():
    cas, attn, vs, lengths = _batch(3, [30, 20], C=3)
    ref = naive.naive_generate_candidates(cas, attn, vs, lengths, **CFG)
    ok = {k: v.copy() for k, v in ref.items()}
    assert naive.compare_candidates(ok, ref) == 0.0
    for key, delta in (('score', 1e-4), ('start', 0.5), ('label', 1)):
        bad = {k: v.copy() for k, v in ref.items()}
        bad[key][3] += delta
        with pytest.raises(AssertionError):
            naive.compare_candidates(bad, ref)
    short = {k: v[:-1] for k, v in ref.items()}
    with pytest.raises(AssertionError, match='count'):
        naive.compare_candidates(short, ref)


def _proposals(seed, n, n_videos, n_classes):
    g = np.random.default_rng(seed)
    s = g.uniform(0, 40, n)
    seg = np.stack([s, s + g.uniform(0.5, 8, n)], 1).astype(np.float32)
    scores = g.uniform(-0.2, 1.5, n).astype(np.float32)
    # exact duplicates (same box, same score): ties broken by index
    seg[5:9] = seg[0]
    scores[5:9] = scores[0]
    return (seg, scores, g.integers(0, n_classes, n),
            g.integers(0, n_videos, n))


@pytest.mark.parametrize('seed,n,nv,nc', [(0, 400, 4, 5), (1, 150, 1, 1),
                                          (2, 60, 3, 9)])
def test_soft_nms_agrees(seed, n, nv, nc):
    seg, scores, labels, batch = _proposals(seed, n, nv, nc)
    keep, new = batched_soft_nms(torch.from_numpy(seg),
                                 torch.from_numpy(scores),
                                 torch.from_numpy(labels),
                                 torch.from_numpy(batch), sigma=0.3)
    ref = naive.naive_batched_soft_nms(seg, scores, labels, batch, sigma=0.3)
    assert naive.compare_soft_nms(keep.numpy(), new.numpy(), ref) <= 1e-5


def test_soft_nms_comparison_catches_differences():
    seg, scores, labels, batch = _proposals(4, 50, 2, 2)
    ref = naive.naive_batched_soft_nms(seg, scores, labels, batch)
    idx = np.arange(50)
    assert naive.compare_soft_nms(idx, ref, ref) == 0.0
    with pytest.raises(AssertionError):
        naive.compare_soft_nms(idx, ref + 1e-4, ref)
    with pytest.raises(AssertionError, match='kept'):
        naive.compare_soft_nms(idx[:-1], ref[:-1], ref)
    with pytest.raises(AssertionError, match='permutation'):
        naive.compare_soft_nms(np.r_[idx[:-1], 0], ref, ref)
    # the textbook loop by hand: tIoU([0,2],[1,3]) = 1/3
    final = naive.naive_soft_nms_group(np.array([[0., 2.], [1., 3.],
                                                 [10., 11.]]),
                                       np.array([0.9, 0.8, 0.5]), 0.3)
    np.testing.assert_allclose(final, [0.9, 0.8 * np.exp(-1 / 2.7), 0.5])
