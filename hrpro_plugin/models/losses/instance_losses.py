"""Stage-2 losses (SPEC "Stage 2: targets"): completeness score and
boundary regression against the reliable proposals (RP).

* target of a proposal = its max tIoU with the RPs of its video (any class);
  0 when the video has no RP (:func:`assign_targets`);
* positives: target ``>= pos_iou`` (0.3); negatives: the rest of the pool
  (NP and low-IoU PP);
* per video, :func:`sample_proposals` keeps the positives and about
  ``neg_ratio x`` as many random negatives, at most ``max_proposals`` in all;
* ``L_reg = mean over positives of SmoothL1(max tIoU(refined, RPs), 1)``
  (0, still in the graph, without positives);
  ``L_score = mean over the kept proposals of SmoothL1(p_comp, target)``.
  SmoothL1 uses ``beta = 1`` (values lie in [0, 1], so it is ``0.5 x^2``).

tIoU is :func:`pairwise_tiou` (continuous), differentiable in the refined
boundaries, so the regression branch gets its gradient through it.
"""
import math
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import nn

from hrpro_plugin.evaluation.functional.tiou import pairwise_tiou

_BLOCK_ELEMENTS = 1 << 24


def assign_targets(prop_start: torch.Tensor, prop_end: torch.Tensor,
                   prop_batch: torch.Tensor, rp_start: torch.Tensor,
                   rp_end: torch.Tensor, rp_batch: torch.Tensor
                   ) -> torch.Tensor:
    """Max tIoU of each proposal with the RPs of the same video.

    Args:
        prop_start, prop_end, prop_batch: ``[N]``.
        rp_start, rp_end, rp_batch: ``[M]``.

    Returns:
        ``[N]`` in ``prop_start``'s dtype, 0 where the video has no RP.
        Differentiable w.r.t. the proposal boundaries. Computed as an
        ``[N, M]`` block with a same-video mask, in chunks of proposals.
    """
    N = prop_start.numel()
    M = rp_start.numel()
    if N == 0 or M == 0:
        return prop_start * 0 + prop_end * 0
    a = torch.stack([prop_start, prop_end], -1)
    b = torch.stack([rp_start, rp_end], -1).to(a)
    pb = prop_batch.long()
    rb = rp_batch.to(pb.device).long()
    chunk = max(1, _BLOCK_ELEMENTS // M)
    parts = []
    for c0 in range(0, N, chunk):  # chunks of proposals, not one at a time
        sl = slice(c0, min(N, c0 + chunk))
        iou = pairwise_tiou(a[sl], b)                          # [n, M]
        same = pb[sl, None] == rb[None, :]
        iou = torch.where(same, iou, torch.zeros_like(iou))
        parts.append(iou.amax(1))
    return torch.cat(parts)


def sample_proposals(target: torch.Tensor, batch_idx: torch.Tensor,
                     pos_iou: float = 0.3, neg_ratio: float = 1.0,
                     max_per_video: int = 1000,
                     generator: Optional[torch.Generator] = None
                     ) -> torch.Tensor:
    """Indices of the proposals kept for the losses.

    Per video with ``n_pos`` positives (``target >= pos_iou``) and
    ``n_neg`` negatives in the pool:

    * ``want = min(n_neg, ceil(neg_ratio x max(n_pos, 1)))`` negatives are
      wanted ("about as many as positives", at least one);
    * ``keep_pos = min(n_pos, max(max_per_video - want,
      ceil(max_per_video / (1 + neg_ratio))))`` and
      ``keep_neg = min(want, max_per_video - keep_pos)``,

    so at most ``max_per_video`` proposals a video. Which positives and
    negatives are kept is uniform at random (``generator``; drawn on its
    device). Returns ``[K]`` long indices, sorted.
    """
    device = target.device
    N = target.numel()
    if N == 0:
        return torch.zeros(0, dtype=torch.long, device=device)
    batch_idx = batch_idx.to(device).long()
    B = int(batch_idx.max().item()) + 1
    is_neg = (target.detach() < pos_iou).long()
    group = batch_idx * 2 + is_neg                              # [N]
    count = torch.bincount(group, minlength=2 * B).reshape(B, 2)
    n_pos, n_neg = count[:, 0], count[:, 1]
    cap = int(max_per_video)
    want = torch.minimum(
        n_neg, torch.ceil(neg_ratio * n_pos.clamp(min=1).double()).long())
    pos_floor = int(math.ceil(cap / (1.0 + neg_ratio)))
    keep_pos = torch.minimum(n_pos, (cap - want).clamp(min=pos_floor))
    keep_neg = torch.minimum(want, (cap - keep_pos).clamp(min=0))
    keep = torch.stack([keep_pos, keep_neg], 1).reshape(-1)     # [2B]

    gen_device = generator.device if generator is not None else 'cpu'
    u = torch.rand(N, generator=generator, dtype=torch.float64,
                   device=gen_device).to(device)
    order = torch.argsort(group.double() + u)                  # by group, random
    g_sorted = group[order]
    first = torch.cumsum(count.reshape(-1), 0) - count.reshape(-1)
    rank = torch.arange(N, device=device) - first[g_sorted]
    chosen = order[rank < keep[g_sorted]]
    return torch.sort(chosen).values


@MODELS.register_module()
class InstanceLoss(nn.Module):
    """Score and regression losses of stage 2.

    ``forward(head, features, mask, mined, generator)`` runs the whole
    stage-2 loss of a batch (targets, sampling, head, losses);
    :meth:`loss_terms` is the loss arithmetic on given predictions.

    Args:
        pos_iou (float): positive threshold on the target. Defaults to 0.3.
        reg_weight (float): weight of ``loss_reg``. Defaults to 1.0.
        score_weight (float): weight of ``loss_score``. Defaults to 1.0.
        max_proposals (int): at most this many kept proposals a video
            (:meth:`sample`). Defaults to 1000.
        neg_ratio (float): negatives wanted per positive. Defaults to 1.0.
        beta (float): SmoothL1 beta. Defaults to 1.0.
    """

    def __init__(self, pos_iou: float = 0.3, reg_weight: float = 1.0,
                 score_weight: float = 1.0, max_proposals: int = 1000,
                 neg_ratio: float = 1.0, beta: float = 1.0) -> None:
        super().__init__()
        self.pos_iou = pos_iou
        self.reg_weight = reg_weight
        self.score_weight = score_weight
        self.max_proposals = max_proposals
        self.neg_ratio = neg_ratio
        self.beta = beta

    def sample(self, target: torch.Tensor, batch_idx: torch.Tensor,
               generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """:func:`sample_proposals` with this loss's settings."""
        return sample_proposals(target, batch_idx, self.pos_iou,
                                self.neg_ratio, self.max_proposals, generator)

    def forward(self, head: nn.Module, features: torch.Tensor,
                mask: torch.Tensor, mined: Dict[str, Dict[str, torch.Tensor]],
                generator: Optional[torch.Generator] = None
                ) -> Dict[str, torch.Tensor]:
        """Stage-2 losses of a batch, from its mined proposal sets.

        The pool is PP followed by NP; targets come from
        :func:`assign_targets` against the RPs; :meth:`sample` picks the kept
        proposals; ``head`` (an ``InstanceHead``) scores and refines them;
        :meth:`loss_terms` gives the losses.

        Args:
            head: the instance head.
            features: ``[B, T, D]``; mask: ``[B, T]``.
            mined: ``dict(pp=..., rp=..., np=...)`` of flat tensors with
                ``batch_idx`` (position in the batch), ``start``, ``end``
                (snippet units), e.g. ``proposal_file.proposals_for_videos``
                or ``mining.mine_proposals`` output.
            generator: seeds the sampling.

        Returns:
            ``dict(loss_reg, loss_score)``, weighted.
        """
        device = features.device
        pp, rp, neg = mined['pp'], mined['rp'], mined['np']

        def col(d, k, dtype):
            return d[k].to(device=device, dtype=dtype).reshape(-1)

        pool_b = torch.cat([col(pp, 'batch_idx', torch.long),
                            col(neg, 'batch_idx', torch.long)])
        pool_s = torch.cat([col(pp, 'start', features.dtype),
                            col(neg, 'start', features.dtype)])
        pool_e = torch.cat([col(pp, 'end', features.dtype),
                            col(neg, 'end', features.dtype)])
        rp_b = col(rp, 'batch_idx', torch.long)
        rp_s = col(rp, 'start', features.dtype)
        rp_e = col(rp, 'end', features.dtype)
        with torch.no_grad():
            target = assign_targets(pool_s, pool_e, pool_b, rp_s, rp_e, rp_b)
        keep = self.sample(target, pool_b, generator)
        out = head(features, mask, pool_b[keep], pool_s[keep], pool_e[keep])
        return self.loss_terms(out['p_comp'], out['refined_start'],
                               out['refined_end'], target[keep], pool_b[keep],
                               rp_s, rp_e, rp_b)

    def loss_terms(self, p_comp: torch.Tensor, refined_start: torch.Tensor,
                   refined_end: torch.Tensor, target: torch.Tensor,
                   batch_idx: torch.Tensor, rp_start: torch.Tensor,
                   rp_end: torch.Tensor, rp_batch: torch.Tensor
                   ) -> Dict[str, torch.Tensor]:
        """Losses over the kept proposals (already sampled).

        Args:
            p_comp: ``[K]`` predicted completeness.
            refined_start, refined_end: ``[K]`` refined boxes (unclipped).
            target: ``[K]`` from :func:`assign_targets` (no gradient).
            batch_idx: ``[K]`` video of each proposal.
            rp_start, rp_end, rp_batch: ``[M]`` RPs of the batch's videos.

        Returns:
            ``dict(loss_reg, loss_score)``, weighted.
        """
        target = target.detach().to(p_comp.dtype)
        pos = target >= self.pos_iou
        if pos.any():
            r_iou = assign_targets(refined_start[pos], refined_end[pos],
                                   batch_idx[pos], rp_start, rp_end, rp_batch)
            loss_reg = F.smooth_l1_loss(r_iou, torch.ones_like(r_iou),
                                        beta=self.beta)
        else:
            loss_reg = (refined_start.sum() + refined_end.sum()) * 0.0
        if p_comp.numel():
            loss_score = F.smooth_l1_loss(p_comp, target, beta=self.beta)
        else:
            loss_score = p_comp.sum() * 0.0
        return dict(loss_reg=self.reg_weight * loss_reg,
                    loss_score=self.score_weight * loss_score)
