"""Class-wise Gaussian soft-NMS per video (docs/method.md, "Inference"), batched over
all (video, class) groups at once, with continuous tIoU (no "+1")."""
from typing import Optional, Tuple

import numpy as np
import torch
from mmaction.registry import MODELS
from torch import nn


def soft_nms_reference(segments, scores, sigma: float = 0.3
                       ) -> Tuple[np.ndarray, np.ndarray]:
    """Plain sequential Gaussian soft-NMS of ONE group (NumPy, float64).

    Repeatedly take the highest remaining score (first index on ties), then
    multiply every other remaining score by ``exp(-tIoU^2 / sigma)``.
    Returns ``(order, final_scores)``: the input indices in selection order
    and the score each had when selected.
    """
    seg = np.asarray(segments, dtype=np.float64).reshape(-1, 2)
    sc = np.asarray(scores, dtype=np.float64).reshape(-1).copy()
    remaining = list(range(len(sc)))
    order, final = [], []
    while remaining:
        best_pos = int(np.argmax(sc[remaining]))
        best = remaining.pop(best_pos)
        order.append(best)
        final.append(sc[best])
        s0, e0 = seg[best]
        for j in remaining:
            s1, e1 = seg[j]
            inter = max(0.0, min(e0, e1) - max(s0, s1))
            union = max(0.0, e0 - s0) + max(0.0, e1 - s1) - inter
            iou = inter / union if union > 0 else 0.0
            sc[j] *= np.exp(-iou * iou / sigma)
    return np.asarray(order, dtype=np.int64), np.asarray(final, dtype=np.float64)


def batched_soft_nms(segments: torch.Tensor,
                     scores: torch.Tensor,
                     labels: torch.Tensor,
                     batch_idx: torch.Tensor,
                     sigma: float = 0.3,
                     top_k: Optional[int] = None,
                     min_score: Optional[float] = None,
                     length_offset: float = 0.0
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Gaussian soft-NMS within every (video, class) group.

    Args:
        segments: ``[N, 2]`` (start, end), any consistent unit.
        scores: ``[N]``.
        labels: ``[N]`` long class of each proposal.
        batch_idx: ``[N]`` long video of each proposal.
        sigma: Gaussian decay ``exp(-tIoU^2 / sigma)``.
        top_k: keep at most this many proposals per video (by final score).
        min_score: drop proposals whose final score is below it.
        length_offset: 0 (default): continuous tIoU. 1: the reference's
            frame-index convention applied to seconds: lengths are
            ``end - start + 1`` and the intersection
            ``max(min(ends) - max(starts) + 1, 0)``, which suppresses more
            (two 2 s boxes 1 s apart: tIoU 0.5 instead of 0.33). Use 1 to
            compare with numbers made by the reference code.

    Returns ``(keep_idx [M] long, new_scores [M])``: indices into the input
    and final scores (the score when selected), sorted by ``batch_idx``,
    then descending final score, then group (video, class), then input
    index. With non-negative scores the final scores of a group never
    increase along its selection order and equal ones are selected lowest
    index first, so within a group this is the selection order. (A negative
    score decayed by a factor < 1 rises towards 0; the output stays sorted
    by final score.)

    How: two proposals whose segments do not overlap never change each
    other's score, so every group splits into chains of overlapping
    segments (sorted by start, a chain ends where the next start reaches the
    largest end so far), and each chain is an independent soft-NMS problem.
    The chains are padded into ``[K, Lmax]`` tensors, longest first, and the
    ``Lmax`` selection steps (``Lmax`` = the longest chain, typically a few
    dozen proposals around one action rather than a whole class) each run
    over all chains at once; step ``s`` only touches the rows of the chains
    still holding more than ``s`` proposals (a prefix of the rows).
    """
    device = scores.device
    N = scores.numel()
    if N == 0:
        return (torch.zeros(0, dtype=torch.long, device=device),
                scores.new_zeros(0))
    labels = labels.long()
    batch_idx = batch_idx.long()
    n_cls = labels.max() + 1
    key = batch_idx * n_cls + labels
    _, group = torch.unique(key, return_inverse=True)
    off = float(length_offset)
    chain = _overlap_chains(segments, group, off)
    f_all = _chain_soft_nms(segments, scores, chain, sigma, off)
    # stable sorts: index, then group, then score desc, then video
    o1 = torch.sort(group, stable=True).indices
    o2 = torch.sort(f_all[o1], descending=True, stable=True).indices
    idx2 = o1[o2]
    o3 = torch.sort(batch_idx[idx2], stable=True).indices
    keep_idx = idx2[o3]
    new_scores = f_all[keep_idx]
    if min_score is not None:
        ok = new_scores >= min_score
        keep_idx, new_scores = keep_idx[ok], new_scores[ok]
    if top_k is not None:
        ok = _first_k_per_video(batch_idx[keep_idx], int(top_k))
        keep_idx, new_scores = keep_idx[ok], new_scores[ok]
    return keep_idx, new_scores


def _overlap_chains(segments: torch.Tensor, group: torch.Tensor,
                    off: float) -> torch.Tensor:
    """``[N]`` chain id of each proposal: sorted by (group, start), a new
    chain starts where the group changes or the start reaches the running
    max end of the group (float64 offsets keep groups apart in one
    cummax). With an offset, boxes less than ``off`` apart still interact."""
    N = segments.shape[0]
    device = segments.device
    st64 = segments[:, 0].to(torch.float64)
    en64 = torch.maximum(segments[:, 1].to(torch.float64), st64) + off
    lo = st64.min()
    span = (en64.max() - lo) + 1.0
    o_start = torch.sort(st64, stable=True).indices
    o_grp = torch.sort(group[o_start], stable=True).indices
    by_start = o_start[o_grp]                       # group, start, index
    g_bs = group[by_start]
    run_end = torch.cummax(g_bs.to(torch.float64) * span +
                           (en64[by_start] - lo), 0).values
    new_chain = torch.ones(N, dtype=torch.bool, device=device)
    new_chain[1:] = ((g_bs[1:] != g_bs[:-1]) |
                     (g_bs[1:].to(torch.float64) * span +
                      (st64[by_start[1:]] - lo) >= run_end[:-1]))
    chain = torch.empty(N, dtype=torch.long, device=device)
    chain[by_start] = torch.cumsum(new_chain.long(), 0) - 1
    return chain


def _chain_soft_nms(segments: torch.Tensor, scores: torch.Tensor,
                    chain: torch.Tensor, sigma: float,
                    off: float) -> torch.Tensor:
    """``[N]`` final score of each proposal: Gaussian soft-NMS run on all
    chains at once, padded into ``[K, Lmax]`` rows (chains by descending
    size; columns: input order within a chain). Step ``s`` touches only the
    rows of the chains holding more than ``s`` proposals (a prefix)."""
    N = scores.numel()
    device, dtype = scores.device, scores.dtype
    counts = torch.bincount(chain)
    K = counts.numel()
    by_size = torch.sort(counts, descending=True, stable=True).indices
    row_of_chain = torch.empty_like(by_size)
    row_of_chain[by_size] = torch.arange(K, device=device)
    row_counts = counts[by_size]
    order = torch.sort(chain, stable=True).indices            # by chain, index
    c_sorted = chain[order]
    first = torch.cumsum(counts, 0) - counts
    pos = torch.arange(N, device=device) - first[c_sorted]
    row = row_of_chain[c_sorted]
    # one host sync: the loop bounds
    host_counts = row_counts.tolist()
    Lmax = host_counts[0]
    # rows still active at step s: the chains holding more than s proposals
    active = np.searchsorted(-np.asarray(host_counts), -np.arange(Lmax),
                             side='left').tolist()

    cur = torch.full((K, Lmax), float('-inf'), dtype=dtype, device=device)
    cur[row, pos] = scores[order]
    st = torch.zeros(K, Lmax, dtype=dtype, device=device)
    en = torch.zeros(K, Lmax, dtype=dtype, device=device)
    st[row, pos] = segments[order, 0].to(dtype)
    en[row, pos] = segments[order, 1].to(dtype)
    length = (en - st + off).clamp_(min=0)
    tiny = torch.finfo(dtype).tiny
    # ``cur`` holds -inf for selected and padding slots; a decay factor is
    # kept >= tiny so that -inf * factor stays -inf (never NaN).
    sel_hist, val_hist = [], []
    for step in range(Lmax):
        a = active[step]
        c = cur[:a]
        sel = c.argmax(1, keepdim=True)                       # [a, 1]
        sel_hist.append(sel)
        val_hist.append(c.gather(1, sel))
        if step == Lmax - 1:
            break
        c.scatter_(1, sel, float('-inf'))
        s_a, e_a, l_a = st[:a], en[:a], length[:a]
        inter = (torch.minimum(e_a, e_a.gather(1, sel)) -
                 torch.maximum(s_a, s_a.gather(1, sel)) + off).clamp_(min=0)
        union = (l_a + l_a.gather(1, sel) - inter).clamp_(min=tiny)
        iou = inter.div_(union)                   # union 0 -> inter 0 -> 0
        c.mul_(iou.square_().mul_(-1.0 / sigma).exp_().clamp_(min=tiny))

    # the row of every selection, step-major like the history
    rows = torch.nonzero(
        torch.arange(Lmax, device=device)[:, None] < row_counts[None, :],
        as_tuple=True)[1]
    final = torch.empty(K, Lmax, dtype=dtype, device=device)
    final[rows, torch.cat(sel_hist)[:, 0]] = torch.cat(val_hist)[:, 0]
    f_all = torch.empty(N, dtype=dtype, device=device)
    f_all[order] = final[row, pos]
    return f_all


def _first_k_per_video(b: torch.Tensor, k: int) -> torch.Tensor:
    """Bool mask of the first ``k`` entries of each run of equal video
    ids in ``b`` (sorted by video)."""
    M = b.numel()
    if not M:
        return torch.zeros(0, dtype=torch.bool, device=b.device)
    is_first = torch.ones(M, dtype=torch.bool, device=b.device)
    is_first[1:] = b[1:] != b[:-1]
    ar = torch.arange(M, device=b.device)
    start = torch.cummax(torch.where(is_first, ar, torch.zeros_like(ar)),
                         0).values
    return (ar - start) < k

@MODELS.register_module()
class SoftNMSPostProcessor(nn.Module):
    """Registered wrapper of :func:`batched_soft_nms` (no parameters).

    ``__call__(segments, scores, labels, batch_idx)`` returns
    ``(keep_idx, new_scores)``.
    """

    def __init__(self, sigma: float = 0.3, top_k: Optional[int] = None,
                 min_score: Optional[float] = None,
                 length_offset: float = 0.0):
        super().__init__()
        self.sigma = sigma
        self.top_k = top_k
        self.min_score = min_score
        self.length_offset = float(length_offset)

    def forward(self, segments, scores, labels, batch_idx):
        return batched_soft_nms(segments, scores, labels, batch_idx,
                                sigma=self.sigma, top_k=self.top_k,
                                min_score=self.min_score,
                                length_offset=self.length_offset)

    def extra_repr(self) -> str:
        return (f'sigma={self.sigma}, top_k={self.top_k}, '
                f'min_score={self.min_score}, '
                f'length_offset={self.length_offset}')
