"""Candidate proposals from the fused CAS and the attention (docs/method.md,
"Candidate proposals"): multi-threshold runs on the 2x upsampled curves, scored by the
outer-inner-contrast (OIC).

Pure torch, batched over videos with a validity mask; no loop over snippets
or proposals (only over the small fixed set of branches).
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch

CAS_THRESHOLDS = tuple(float(v) for v in np.arange(0, 0.25, 0.025))
ATTN_THRESHOLDS = tuple(float(v) for v in np.arange(0.5, 0.725, 0.025))


def upsample_linear(x: torch.Tensor, mask: torch.Tensor, scale: int = 2
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Upsample ``x`` ``[B, T, ...]`` along dim 1 by an integer ``scale``.

    Index ``i`` of the output samples the original sequence at ``i / scale``
    on the line through snippets ``j`` and ``j + 1`` with
    ``j = min(floor(i / scale), T_b - 2)``: linear interpolation inside the
    video and linear *extrapolation* past its last snippet (the positions
    ``(T_b - 1) + k / scale``), as the reference's
    ``interp1d(fill_value='extrapolate')`` does. A one-snippet video stays
    constant. A video of valid length ``T_b`` becomes ``scale * T_b`` long;
    positions past that are zero. Computed in ``x``'s dtype.

    Returns ``(x_up [B, scale * T, ...], mask_up [B, scale * T] bool)``.
    """
    scale = int(scale)
    B, T = x.shape[:2]
    device = x.device
    lengths = mask.long().sum(1)                                 # [B]
    last = (lengths - 1).clamp(min=0)[:, None]                   # [B, 1]
    U = scale * T
    i = torch.arange(U, device=device)
    pos = i.to(x.dtype)[None, :] / scale                         # [1, U]
    lo = torch.minimum((i // scale)[None, :], (last - 1).clamp(min=0))
    hi = torch.minimum(lo + 1, last)                             # [B, U]
    w = pos - lo.to(x.dtype)                                     # may be > 1
    w = torch.where(hi > lo, w, torch.zeros_like(w))
    extra = x.shape[2:]
    view = (B, U) + (1,) * len(extra)

    def take(ix):
        return torch.gather(x, 1, ix.reshape(view).expand((B, U) + extra))

    x_lo, x_hi = take(lo), take(hi)
    w = w.reshape(view)
    out = x_lo + (x_hi - x_lo) * w
    mask_up = i[None, :] < scale * lengths[:, None]
    out = torch.where(mask_up.reshape(view), out, torch.zeros_like(out))
    return out, mask_up


def find_runs(on: torch.Tensor
              ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Maximal runs of True in each row of ``on`` ``[R, U]``.

    Returns ``(row, start, end)``: row index, first index, and last index + 1
    (exclusive end), ordered by row then by start.
    """
    R = on.shape[0]
    padded = torch.zeros(R, on.shape[1] + 2, dtype=torch.int8, device=on.device)
    padded[:, 1:-1] = on.to(torch.int8)
    d = padded[:, 1:] - padded[:, :-1]                           # [R, U + 1]
    s_row, s_pos = torch.nonzero(d == 1, as_tuple=True)
    _, e_pos = torch.nonzero(d == -1, as_tuple=True)
    return s_row, s_pos, e_pos


def oic_scores(signal: torch.Tensor, row: torch.Tensor, start: torch.Tensor,
               end: torch.Tensor, valid_len: torch.Tensor,
               outer_ratio: float = 0.25) -> torch.Tensor:
    """Outer-inner-contrast of runs.

    Args:
        signal: ``[R, U]`` the values scored (zero past each row's length).
        row, start, end: ``[N]`` run row, first index, exclusive end.
        valid_len: ``[R]`` valid length of each row.
        outer_ratio: ``r``; a run of length ``n`` has ``ceil(r * n)`` outer
            positions on its left and ``floor(r * n)`` on its right, clipped
            to ``[0, len)`` (the reference's ``int(s - r n)`` and
            ``int(e_last + r n)``; a run of 1-3 positions still has one on
            its left).

    Returns ``[N]``: mean of ``signal`` inside minus mean over the outer
    positions that exist (0 where there are none).
    """
    R, U = signal.shape
    # float64 prefix sums: a float32 cumsum over thousands of positions
    # would cost ~1e-4 of absolute error on short runs late in a video.
    cs = torch.zeros(R, U + 1, dtype=torch.float64, device=signal.device)
    if signal.is_cuda and torch.are_deterministic_algorithms_enabled():
        # float cumsum on CUDA raises in deterministic mode: sum exact
        # integers in fixed point (2**-32 resolution) instead
        q = torch.round(signal.to(torch.float64) * 2.0**32).long()
        cs[:, 1:] = q.cumsum(1).to(torch.float64) / 2.0**32
    else:
        cs[:, 1:] = torch.cumsum(signal.to(torch.float64), dim=1)
    n = end - start
    rn = n.to(torch.float64) * outer_ratio
    m_left = torch.ceil(rn).long()
    m_right = torch.floor(rn).long()
    L = valid_len[row]
    lo = (start - m_left).clamp(min=0)
    hi = torch.minimum(end + m_right, L)

    def seg_sum(a, b):
        return cs[row, b] - cs[row, a]

    inner = seg_sum(start, end) / n.clamp(min=1).to(cs.dtype)
    outer_sum = seg_sum(lo, start) + seg_sum(end, hi)
    outer_n = (start - lo) + (hi - end)
    outer = torch.where(outer_n > 0,
                        outer_sum / outer_n.clamp(min=1).to(cs.dtype),
                        torch.zeros_like(outer_sum))
    return (inner - outer).to(signal.dtype)


def _drop_lone_first(row, start, end, num_rows):
    """Drop a row's run ``[0, 1)`` where it is the row's only run."""
    count = torch.bincount(row, minlength=num_rows)
    lone = (count[row] == 1) & (start == 0) & (end == 1)
    return row[~lone], start[~lone], end[~lone]


def kept_classes(video_scores: torch.Tensor, class_thresh: float = 0.5
                 ) -> torch.Tensor:
    """``[B, C]`` bool: classes with video score >= ``class_thresh``, or the
    top-scoring class (first on ties) where no class passes."""
    ge = video_scores >= class_thresh
    top = torch.zeros_like(ge)
    top.scatter_(1, video_scores.argmax(1, keepdim=True), True)
    return ge | (top & ~ge.any(1, keepdim=True))


def generate_candidates(fused_cas: torch.Tensor,
                        attn: torch.Tensor,
                        video_scores: torch.Tensor,
                        mask: torch.Tensor,
                        cas_thresholds: Sequence[float] = CAS_THRESHOLDS,
                        attn_thresholds: Sequence[float] = ATTN_THRESHOLDS,
                        class_thresh: float = 0.5,
                        outer_ratio: float = 0.25,
                        scale: int = 2,
                        drop_lone_first: bool = False
                        ) -> Dict[str, torch.Tensor]:
    """Multi-threshold candidate proposals of a padded batch.

    Per video, the kept classes are those with video score >=
    ``class_thresh`` (else the top-scoring class). ``P_c`` (fused CAS of a
    kept class) and ``A`` (attention) are upsampled by ``scale``
    (:func:`upsample_linear`, in float64). Thresholds apply as in the
    reference: values below ``thr`` are set to 0 and every maximal run of
    positive values left is a candidate of class c (so a run is
    ``v >= thr and v > 0``):

    * P branch: runs of the thresholded ``P_c``; OIC on the thresholded
      ``P_c``;
    * A branch: runs of the thresholded ``A`` (one candidate per kept
      class); OIC on the unthresholded ``P_c``.

    OIC = mean inside minus mean over ``ceil(outer_ratio * n)`` positions
    on the left and ``floor(outer_ratio * n)`` on the right (clipped to the
    video; 0 where no outer position exists), see :func:`oic_scores`.

    ``drop_lone_first=True`` reproduces a quirk of the reference: where the
    only position above a threshold is the video's first upsampled one, it
    makes no candidate (its ``if positions.any()`` is False for ``[0]``).
    The default keeps that candidate.

    Returns a dict of flat tensors: ``batch_idx [N] long``, ``start [N]``,
    ``end [N]`` (float32, snippet units: first upsampled index / scale and
    (last + 1) / scale), ``label [N] long``, ``score [N]`` (OIC, float32).
    Order: by video, then class, then branch (P thresholds in order, then A
    thresholds), then start.
    """
    device = fused_cas.device
    B, T, C = fused_cas.shape
    keep = kept_classes(video_scores, class_thresh)
    kb, kc = torch.nonzero(keep, as_tuple=True)                 # [K] pairs
    # float64 like the reference's scipy interpolation, so that threshold
    # comparisons agree with it to the last bit that matters
    p_up, mask_up = upsample_linear(fused_cas.double(), mask, scale)
    a_up, _ = upsample_linear(attn.double(), mask, scale)
    U = p_up.shape[1]
    lengths_up = mask_up.long().sum(1)                           # [B]

    pc = p_up[kb, :, kc]                                         # [K, U]
    ac = a_up[kb]                                                # [K, U]
    mk = mask_up[kb]                                             # [K, U]
    cas_thr = torch.tensor(list(cas_thresholds), dtype=torch.float64,
                           device=device)
    attn_thr = torch.tensor(list(attn_thresholds), dtype=torch.float64,
                            device=device)
    n1, n2 = cas_thr.numel(), attn_thr.numel()
    K = kb.numel()

    lengths_k = lengths_up[kb]                                   # [K]

    # P branch: one row per (pair, cas threshold): [K * n1, U]
    p_sig = torch.where(pc[:, None, :] < cas_thr[None, :, None],
                        torch.zeros((), dtype=pc.dtype, device=device),
                        pc[:, None, :])
    p_on = (p_sig > 0) & mk[:, None, :]
    p_row, p_s, p_e = find_runs(p_on.reshape(K * n1, U))
    if drop_lone_first:
        p_row, p_s, p_e = _drop_lone_first(p_row, p_s, p_e, K * n1)
    p_score = oic_scores(p_sig.reshape(K * n1, U), p_row, p_s, p_e,
                         lengths_k.repeat_interleave(n1), outer_ratio)
    p_pair = p_row // n1

    # A branch: runs per (pair, attn threshold), OIC on the pair's raw P_c
    a_on = ((ac[:, None, :] >= attn_thr[None, :, None]) & (ac[:, None, :] > 0)
            & mk[:, None, :])
    a_row, a_s, a_e = find_runs(a_on.reshape(K * n2, U))
    if drop_lone_first:
        a_row, a_s, a_e = _drop_lone_first(a_row, a_s, a_e, K * n2)
    a_pair = a_row // n2
    a_score = oic_scores(pc, a_pair, a_s, a_e, lengths_k, outer_ratio)

    # order: pair (video, class), branch P then A, threshold, start
    pair = torch.cat([p_pair, a_pair])
    s = torch.cat([p_s, a_s])
    e = torch.cat([p_e, a_e])
    score = torch.cat([p_score, a_score])
    branch = torch.cat([torch.zeros_like(p_pair), torch.ones_like(a_pair)])
    order = torch.sort(pair * 2 + branch, stable=True).indices
    pair, s, e, score = pair[order], s[order], e[order], score[order]
    return dict(
        batch_idx=kb[pair],
        start=s.to(torch.float32) / scale,
        end=e.to(torch.float32) / scale,
        label=kc[pair],
        score=score.to(torch.float32))


def top_per_video(batch_idx: torch.Tensor, score: torch.Tensor,
                  k: int) -> torch.Tensor:
    """Indices of the ``k`` highest scores of every video (ties: lower
    index first), in input order."""
    n = score.numel()
    if n == 0:
        return torch.zeros(0, dtype=torch.long, device=score.device)
    o1 = torch.sort(score, descending=True, stable=True).indices
    order = o1[torch.sort(batch_idx[o1], stable=True).indices]
    b = batch_idx[order]
    ar = torch.arange(n, device=score.device)
    is_first = torch.ones(n, dtype=torch.bool, device=score.device)
    is_first[1:] = b[1:] != b[:-1]
    first = torch.cummax(torch.where(is_first, ar, torch.zeros_like(ar)),
                         0).values
    return torch.sort(order[(ar - first) < int(k)]).values


def cap_candidates(cand: Dict[str, torch.Tensor],
                   max_per_video: Optional[int]) -> Dict[str, torch.Tensor]:
    """Keep the ``max_per_video`` best candidates (by OIC score) of every
    video, in their order; ``None`` keeps all."""
    if max_per_video is None:
        return cand
    keep = top_per_video(cand['batch_idx'], cand['score'], max_per_video)
    if keep.numel() == cand['score'].numel():
        return cand
    return {key: value[keep] for key, value in cand.items()}
