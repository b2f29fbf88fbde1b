"""Class-wise Gaussian soft-NMS per video (SPEC "Inference"), batched over
all (video, class) groups at once, with continuous tIoU (no "+1")."""
from typing import Optional, Tuple

import numpy as np
import torch
from mmaction.registry import MODELS
from torch import nn

from hrpro_plugin.evaluation.functional.tiou import pairwise_tiou


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
                     min_score: Optional[float] = None
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

    Returns ``(keep_idx [M] long, new_scores [M])``: indices into the input
    and final scores (the score when selected), sorted by ``batch_idx`` then
    descending final score; ties keep the group (video, class) order, then
    the selection order. With non-negative scores the final scores of a group
    never increase along its selection order, so within a group this output
    order is the selection order. (A negative score decayed by a factor < 1
    rises towards 0; the output stays sorted by final score.)

    The groups are padded into ``[G, Lmax]`` tensors and the ``Lmax``
    selection steps each run over all groups at once.
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
    _, group, counts = torch.unique(key, return_inverse=True,
                                    return_counts=True)
    G = counts.numel()
    order = torch.sort(group, stable=True).indices            # by group, index
    g_sorted = group[order]
    first = torch.cumsum(counts, 0) - counts                  # [G]
    pos = torch.arange(N, device=device) - first[g_sorted]
    Lmax = int(counts.max().item())

    dtype = scores.dtype
    S = torch.full((G, Lmax), float('-inf'), dtype=dtype, device=device)
    S[g_sorted, pos] = scores[order]
    seg = torch.zeros(G, Lmax, 2, dtype=segments.dtype, device=device)
    seg[g_sorted, pos] = segments[order]
    remaining = torch.zeros(G, Lmax, dtype=torch.bool, device=device)
    remaining[g_sorted, pos] = True
    # rank = selection step of each proposal in its group (the number of
    # steps it stayed unselected); a selected score is never decayed again,
    # so S ends holding every proposal's final score.
    rank = torch.zeros(G, Lmax, dtype=torch.long, device=device)
    neg_inf = torch.tensor(float('-inf'), dtype=dtype, device=device)
    seg_idx = torch.zeros(G, 1, 2, dtype=torch.long, device=device)

    for _ in range(Lmax):
        cur = torch.where(remaining, S, neg_inf)
        sel = cur.argmax(1, keepdim=True)                      # [G, 1]
        # a finished group picks a non-remaining slot: no-op below
        remaining.scatter_(1, sel, False)
        sel_seg = seg.gather(1, seg_idx + sel[..., None])      # [G, 1, 2]
        iou = pairwise_tiou(sel_seg, seg)[:, 0, :].to(dtype)   # [G, Lmax]
        S = torch.where(remaining, S * torch.exp(-(iou * iou) / sigma), S)
        rank += remaining

    final = S
    f_sel = final[g_sorted, pos]                               # by order
    r_sel = rank[g_sorted, pos]
    # order within a group by rank, then stable sorts: score desc, video.
    o1 = torch.sort(g_sorted * Lmax + r_sel, stable=True).indices
    idx1, f1 = order[o1], f_sel[o1]
    o2 = torch.sort(f1, descending=True, stable=True).indices
    idx2, f2 = idx1[o2], f1[o2]
    o3 = torch.sort(batch_idx[idx2], stable=True).indices
    keep_idx, new_scores = idx2[o3], f2[o3]

    if min_score is not None:
        ok = new_scores >= min_score
        keep_idx, new_scores = keep_idx[ok], new_scores[ok]
    if top_k is not None:
        b = batch_idx[keep_idx]
        M = b.numel()
        if M:
            is_first = torch.ones(M, dtype=torch.bool, device=device)
            is_first[1:] = b[1:] != b[:-1]
            ar = torch.arange(M, device=device)
            start = torch.cummax(torch.where(is_first, ar,
                                             torch.zeros_like(ar)), 0).values
            ok = (ar - start) < int(top_k)
            keep_idx, new_scores = keep_idx[ok], new_scores[ok]
    return keep_idx, new_scores


@MODELS.register_module()
class SoftNMSPostProcessor(nn.Module):
    """Registered wrapper of :func:`batched_soft_nms` (no parameters).

    ``__call__(segments, scores, labels, batch_idx)`` returns
    ``(keep_idx, new_scores)``.
    """

    def __init__(self, sigma: float = 0.3, top_k: Optional[int] = None,
                 min_score: Optional[float] = None):
        super().__init__()
        self.sigma = sigma
        self.top_k = top_k
        self.min_score = min_score

    def forward(self, segments, scores, labels, batch_idx):
        return batched_soft_nms(segments, scores, labels, batch_idx,
                                sigma=self.sigma, top_k=self.top_k,
                                min_score=self.min_score)

    def extra_repr(self) -> str:
        return (f'sigma={self.sigma}, top_k={self.top_k}, '
                f'min_score={self.min_score}')
