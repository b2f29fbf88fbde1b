"""Straightforward per-proposal NumPy / Python reference implementations of
candidate generation and class-wise Gaussian soft-NMS (docs/method.md, "Candidate proposals" and
"Inference"), written the way a first implementation usually is: a Python
loop over videos and classes, then over thresholds, then over runs; soft-NMS
as the textbook sequential loop inside each (video, class) group.

They are the baseline of ``benchmarks/speed.py`` (our batched torch code is
timed against them on the same inputs) and
``tests/benchmarks/test_naive_equivalence.py`` checks that both agree.
Independent of the plugin: NumPy and the standard library only.

Arithmetic that decides *which* runs exist (upsampling, threshold tests) is
done in float64 like the torch code, so both see the same runs; the OIC
means and the soft-NMS decay are computed in float64 too.
"""
from typing import Dict, List, Sequence, Tuple

import numpy as np


# ---------------------------------------------------------------------------
# candidate proposals
# ---------------------------------------------------------------------------
def _upsample(x: np.ndarray, scale: int) -> np.ndarray:
    """``x`` ``[T, ...]`` -> ``[scale * T, ...]`` float64: index ``i`` reads
    ``i / scale`` on the line through snippets ``j`` and ``j + 1``,
    ``j = min(i // scale, T - 2)`` (linear extrapolation past the last
    snippet; constant for one snippet)."""
    x = np.asarray(x, dtype=np.float64)
    T = x.shape[0]
    i = np.arange(scale * T)
    lo = np.minimum(i // scale, max(T - 2, 0))
    hi = np.minimum(lo + 1, T - 1)
    w = np.where(hi > lo, i / scale - lo, 0.0)
    w = w.reshape((-1, ) + (1, ) * (x.ndim - 1))
    return x[lo] + (x[hi] - x[lo]) * w


def _runs(on: np.ndarray) -> List[Tuple[int, int]]:
    """Maximal runs of True as ``(first, last + 1)``."""
    idx = np.flatnonzero(on)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) != 1)
    firsts = np.concatenate([[idx[0]], idx[breaks + 1]])
    lasts = np.concatenate([idx[breaks], [idx[-1]]])
    return [(int(a), int(b) + 1) for a, b in zip(firsts, lasts)]


def _oic(signal: np.ndarray, s: int, e: int, outer_ratio: float) -> float:
    """Mean inside ``[s, e)`` minus mean over ``ceil(outer_ratio * len)``
    positions on the left and ``floor(outer_ratio * len)`` on the right,
    clipped to the signal (0 without outer positions)."""
    n = e - s
    lo = max(0, s - int(np.ceil(n * outer_ratio)))
    hi = min(len(signal), e + int(np.floor(n * outer_ratio)))
    inner = float(np.mean(signal[s:e], dtype=np.float64))
    outer_vals = np.concatenate([signal[lo:s], signal[e:hi]])
    outer = (float(np.mean(outer_vals, dtype=np.float64))
             if outer_vals.size else 0.0)
    return inner - outer


def naive_candidates_video(fused_cas: np.ndarray, attn: np.ndarray,
                           video_scores: np.ndarray,
                           cas_thresholds: Sequence[float],
                           attn_thresholds: Sequence[float],
                           class_thresh: float = 0.5,
                           outer_ratio: float = 0.25,
                           scale: int = 2) -> List[tuple]:
    """Candidates of ONE video (valid snippets only): ``fused_cas [T, C]``,
    ``attn [T]``, ``video_scores [C]``. Returns ``(start, end, label, score)``
    tuples (snippet units) in the order: class, P thresholds then A
    thresholds, start."""
    fused_cas = np.asarray(fused_cas, dtype=np.float32)
    attn = np.asarray(attn, dtype=np.float32)
    # a threshold zeroes the values below it; runs are the positive values
    kept = [c for c in range(len(video_scores))
            if video_scores[c] >= class_thresh]
    if not kept:
        kept = [int(np.argmax(video_scores))]
    p_up = _upsample(fused_cas, scale)
    a_up = _upsample(attn, scale)
    out = []
    for c in kept:
        pc = p_up[:, c]
        for thr in cas_thresholds:
            sig = np.where(pc < thr, 0.0, pc)
            for s, e in _runs(sig > 0):
                out.append((s / scale, e / scale, c,
                            _oic(sig, s, e, outer_ratio)))
        for thr in attn_thresholds:
            for s, e in _runs((a_up >= thr) & (a_up > 0)):
                out.append((s / scale, e / scale, c,
                            _oic(pc, s, e, outer_ratio)))
    return out


def naive_generate_candidates(fused_cas: np.ndarray, attn: np.ndarray,
                              video_scores: np.ndarray, lengths: np.ndarray,
                              **cfg) -> Dict[str, np.ndarray]:
    """A padded batch (``[B, T, C]``, ``[B, T]``, ``[B, C]``, lengths
    ``[B]``), one video at a time. Returns flat arrays ``batch_idx, start,
    end, label, score`` like ``candidates.generate_candidates``."""
    rows = []
    for b in range(fused_cas.shape[0]):
        T = int(lengths[b])
        for r in naive_candidates_video(fused_cas[b, :T], attn[b, :T],
                                        video_scores[b], **cfg):
            rows.append((b, ) + r)
    if not rows:
        z = np.zeros(0)
        return dict(batch_idx=z.astype(np.int64), start=z, end=z,
                    label=z.astype(np.int64), score=z)
    b, s, e, c, sc = zip(*rows)
    return dict(batch_idx=np.asarray(b, np.int64),
                start=np.asarray(s, np.float64),
                end=np.asarray(e, np.float64),
                label=np.asarray(c, np.int64),
                score=np.asarray(sc, np.float64))


# ---------------------------------------------------------------------------
# soft-NMS
# ---------------------------------------------------------------------------
def naive_soft_nms_group(segments: np.ndarray, scores: np.ndarray,
                         sigma: float = 0.3) -> np.ndarray:
    """Textbook Gaussian soft-NMS of ONE group: repeatedly select the
    highest remaining score (first index on ties) and multiply every other
    remaining score by ``exp(-tIoU^2 / sigma)`` (continuous tIoU). Returns
    the score each proposal had when it was selected (float64)."""
    seg = np.asarray(segments, dtype=np.float64).reshape(-1, 2)
    sc = np.asarray(scores, dtype=np.float64).copy()
    n = len(sc)
    remaining = np.ones(n, dtype=bool)
    final = np.empty(n, dtype=np.float64)
    length = np.clip(seg[:, 1] - seg[:, 0], 0, None)
    for _ in range(n):
        j = int(np.argmax(np.where(remaining, sc, -np.inf)))
        remaining[j] = False
        final[j] = sc[j]
        inter = np.clip(np.minimum(seg[j, 1], seg[:, 1]) -
                        np.maximum(seg[j, 0], seg[:, 0]), 0, None)
        union = length[j] + length - inter
        iou = np.divide(inter, union, out=np.zeros_like(inter),
                        where=union > 0)
        sc[remaining] *= np.exp(-iou[remaining]**2 / sigma)
    return final


def naive_batched_soft_nms(segments: np.ndarray, scores: np.ndarray,
                           labels: np.ndarray, batch_idx: np.ndarray,
                           sigma: float = 0.3) -> np.ndarray:
    """Soft-NMS in every (video, class) group, one group at a time. Returns
    the final score of every input proposal (``[N]`` float64; no top-k, no
    score floor, so every proposal is kept)."""
    groups: Dict[Tuple[int, int], List[int]] = {}
    for i, (b, c) in enumerate(zip(batch_idx.tolist(), labels.tolist())):
        groups.setdefault((b, c), []).append(i)
    final = np.empty(len(scores), dtype=np.float64)
    for idx in groups.values():
        idx = np.asarray(idx)
        final[idx] = naive_soft_nms_group(segments[idx], scores[idx], sigma)
    return final


# ---------------------------------------------------------------------------
# comparisons used by the benchmark (and checked by the tests)
# ---------------------------------------------------------------------------
def compare_candidates(ours: Dict[str, np.ndarray],
                       naive: Dict[str, np.ndarray]) -> float:
    """Check that two candidate sets are the same: same count, and row by
    row (both in the order video, class, branch, threshold, start) the same
    video, class, start and end, with scores within 1e-5. Returns the
    largest score difference; raises ``AssertionError`` on a mismatch."""
    n_o, n_n = len(ours['score']), len(naive['score'])
    if n_o != n_n:
        raise AssertionError(f'candidate count differs: ours {n_o}, '
                             f'naive {n_n}')
    for key in ('batch_idx', 'label'):
        a = np.asarray(ours[key]).astype(np.int64)
        b = np.asarray(naive[key]).astype(np.int64)
        if not np.array_equal(a, b):
            i = int(np.flatnonzero(a != b)[0])
            raise AssertionError(f'candidate {i}: {key} differs '
                                 f'(ours {a[i]}, naive {b[i]})')
    for key in ('start', 'end'):
        d = np.abs(np.asarray(ours[key], np.float64) -
                   np.asarray(naive[key], np.float64))
        if d.size and d.max() > 1e-6:
            raise AssertionError(f'candidate {int(d.argmax())}: {key} '
                                 f'differs by {d.max():.3g}')
    d = np.abs(np.asarray(ours['score'], np.float64) -
               np.asarray(naive['score'], np.float64))
    worst = float(d.max()) if d.size else 0.0
    if worst > 1e-5:
        raise AssertionError(f'candidate {int(d.argmax())}: OIC differs by '
                             f'{worst:.3g} (> 1e-5)')
    return worst


def compare_soft_nms(keep_idx: np.ndarray, new_scores: np.ndarray,
                     naive_final: np.ndarray) -> float:
    """Check our ``(keep_idx, new_scores)`` against the naive final score
    of every input proposal: same count (all kept), every index once, scores
    within 1e-5. Returns the largest difference."""
    keep_idx = np.asarray(keep_idx, np.int64)
    n = len(naive_final)
    if len(keep_idx) != n:
        raise AssertionError(f'soft-NMS kept {len(keep_idx)} proposals, '
                             f'naive {n}')
    if not np.array_equal(np.sort(keep_idx), np.arange(n)):
        raise AssertionError('soft-NMS output is not a permutation of the '
                             'input proposals')
    ours = np.empty(n, np.float64)
    ours[keep_idx] = np.asarray(new_scores, np.float64)
    d = np.abs(ours - naive_final)
    worst = float(d.max()) if n else 0.0
    if worst > 1e-5:
        raise AssertionError(f'proposal {int(d.argmax())}: final score '
                             f'differs by {worst:.3g} (> 1e-5)')
    return worst
