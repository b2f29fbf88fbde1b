"""Candidate proposals from the fused CAS and the attention (SPEC
"Proposals"): multi-threshold runs on the 2x upsampled curves, scored by the
outer-inner-contrast (OIC).

Pure torch, batched over videos with a validity mask; no loop over snippets
or proposals (only over the small fixed set of branches).
"""
from typing import Dict, Sequence, Tuple

import numpy as np
import torch

CAS_THRESHOLDS = tuple(float(v) for v in np.arange(0, 0.25, 0.025))
ATTN_THRESHOLDS = tuple(float(v) for v in np.arange(0.5, 0.725, 0.025))


def upsample_linear(x: torch.Tensor, mask: torch.Tensor, scale: int = 2
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Upsample ``x`` ``[B, T, ...]`` along dim 1 by an integer ``scale``.

    Index ``i`` of the output samples the original sequence at ``i / scale``
    with linear interpolation between snippets ``floor(i / scale)`` and the
    next one; beyond the video's last valid snippet the last value is
    extended (no extrapolation). A video of valid length ``T_b`` becomes
    ``scale * T_b`` long; positions past that are zero.

    Returns ``(x_up [B, scale * T, ...], mask_up [B, scale * T] bool)``.
    """
    scale = int(scale)
    B, T = x.shape[:2]
    device = x.device
    lengths = mask.long().sum(1)                                 # [B]
    last = (lengths - 1).clamp(min=0)[:, None]                   # [B, 1]
    U = scale * T
    i = torch.arange(U, device=device)
    lo = (i // scale)[None, :].expand(B, U)
    frac = ((i % scale).to(x.dtype) / scale)[None, :].expand(B, U)
    hi = torch.minimum(lo + 1, last)
    lo = torch.minimum(lo, last)
    extra = x.shape[2:]
    view = (B, U) + (1,) * len(extra)

    def take(ix):
        return torch.gather(x, 1, ix.reshape(view).expand((B, U) + extra))

    x_lo, x_hi = take(lo), take(hi)
    w = frac.reshape(view)
    out = x_lo * (1 - w) + x_hi * w
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
        outer_ratio: the outer region has ``int(outer_ratio * n)`` positions
            on each side of a run of length ``n``, clipped to ``[0, len)``.

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
    m = torch.floor(n.to(torch.float64) * outer_ratio).long()
    L = valid_len[row]
    lo = (start - m).clamp(min=0)
    hi = torch.minimum(end + m, L)

    def seg_sum(a, b):
        return cs[row, b] - cs[row, a]

    inner = seg_sum(start, end) / n.clamp(min=1).to(cs.dtype)
    outer_sum = seg_sum(lo, start) + seg_sum(end, hi)
    outer_n = (start - lo) + (hi - end)
    outer = torch.where(outer_n > 0,
                        outer_sum / outer_n.clamp(min=1).to(cs.dtype),
                        torch.zeros_like(outer_sum))
    return (inner - outer).to(signal.dtype)


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
                        scale: int = 2) -> Dict[str, torch.Tensor]:
    """Multi-threshold candidate proposals of a padded batch.

    Per video, the kept classes are those with video score >=
    ``class_thresh`` (else the top-scoring class). ``P_c`` (fused CAS of a
    kept class) and ``A`` (attention) are upsampled by ``scale``
    (:func:`upsample_linear`). For every threshold, every maximal run of
    values strictly above it is a candidate of class c:

    * P branch: runs of ``P_c > thr``; OIC on ``P_c`` with values ``< thr``
      set to 0;
    * A branch: runs of ``A > thr`` (one candidate per kept class); OIC on
      the unthresholded ``P_c``.

    OIC = mean inside minus mean over ``int(outer_ratio * n)`` positions on
    each side (clipped to the video; 0 where no outer position exists).

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
    p_up, mask_up = upsample_linear(fused_cas.float(), mask, scale)
    a_up, _ = upsample_linear(attn.float(), mask, scale)
    U = p_up.shape[1]
    lengths_up = mask_up.long().sum(1)                           # [B]

    pc = p_up[kb, :, kc]                                         # [K, U]
    ac = a_up[kb]                                                # [K, U]
    mk = mask_up[kb]                                             # [K, U]
    cas_thr = torch.tensor(list(cas_thresholds), dtype=torch.float32,
                           device=device)
    attn_thr = torch.tensor(list(attn_thresholds), dtype=torch.float32,
                            device=device)
    n1, n2 = cas_thr.numel(), attn_thr.numel()
    K = kb.numel()

    lengths_k = lengths_up[kb]                                   # [K]

    # P branch: one row per (pair, cas threshold): [K * n1, U]
    p_on = (pc[:, None, :] > cas_thr[None, :, None]) & mk[:, None, :]
    p_sig = torch.where(pc[:, None, :] < cas_thr[None, :, None],
                        torch.zeros((), device=device), pc[:, None, :])
    p_row, p_s, p_e = find_runs(p_on.reshape(K * n1, U))
    p_score = oic_scores(p_sig.reshape(K * n1, U), p_row, p_s, p_e,
                         lengths_k.repeat_interleave(n1), outer_ratio)
    p_pair = p_row // n1

    # A branch: runs per (pair, attn threshold), OIC on the pair's raw P_c
    a_on = (ac[:, None, :] > attn_thr[None, :, None]) & mk[:, None, :]
    a_row, a_s, a_e = find_runs(a_on.reshape(K * n2, U))
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
