"""Stage-2 losses (``docs/method.md``, "Stage 2"): completeness score and
boundary regression against the reliable proposals (RP).

* target of a proposal = its max tIoU with the RPs of its video (any class);
  0 when the video has no RP (:func:`assign_targets`);
* positives: target ``>= pos_iou`` (0.3); negatives: the rest of the pool
  (NP and low-IoU PP);
* per video, the pool (PP then NP) is first cut at random to
  ``max_proposals`` (:func:`cut_pool`), then every positive and each
  negative with probability ``min(n_pos / n_neg, 1)`` is kept
  (:func:`sample_negatives`; a video without positives keeps none);
* ``L_reg`` = per video, mean over positives of
  ``SmoothL1(max tIoU(refined, RPs), 1)``; ``L_score`` = per video, mean
  over the kept proposals of ``SmoothL1(p_comp, target)``; both then
  averaged over the videos of the batch (the reference's reduction).
  SmoothL1 uses ``beta = 1`` (values lie in [0, 1], so it is ``0.5 x^2``).

tIoU is :func:`pairwise_tiou` (continuous), differentiable in the refined
boundaries, so the regression branch gets its gradient through it.
"""
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import nn

from ...ops.tiou import pairwise_tiou

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


def _uniform(n: int, generator: Optional[torch.Generator], device
             ) -> torch.Tensor:
    gen_device = generator.device if generator is not None else 'cpu'
    return torch.rand(n, generator=generator, dtype=torch.float64,
                      device=gen_device).to(device)


def cut_pool(batch_idx: torch.Tensor, max_per_video: Optional[int] = 1000,
             generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Indices of a uniform random subset of at most ``max_per_video``
    proposals of each video (all of a video that has fewer), sorted.

    The reference draws this subset from the whole pool (PP and NP) before
    any target is computed; ``None`` keeps everything."""
    device = batch_idx.device
    N = batch_idx.numel()
    if N == 0 or max_per_video is None:
        return torch.arange(N, device=device)
    b = batch_idx.long()
    order = torch.argsort(b.double() + _uniform(N, generator, device))
    counts = torch.bincount(b)
    first = torch.cumsum(counts, 0) - counts
    rank = torch.arange(N, device=device) - first[b[order]]
    return torch.sort(order[rank < int(max_per_video)]).values


def sample_negatives(target: torch.Tensor, batch_idx: torch.Tensor,
                     pos_iou: float = 0.3,
                     generator: Optional[torch.Generator] = None
                     ) -> torch.Tensor:
    """``[N]`` bool: the proposals that enter the score loss.

    Every positive (``target >= pos_iou``) and each negative independently
    with probability ``min(n_pos / n_neg, 1)`` of its video (the reference's
    rule: about as many negatives as positives, none in a video without
    positives)."""
    device = target.device
    N = target.numel()
    if N == 0:
        return torch.zeros(0, dtype=torch.bool, device=device)
    b = batch_idx.long()
    pos = target.detach() >= pos_iou
    B = int(b.max().item()) + 1
    n_pos = torch.bincount(b, weights=pos.double(), minlength=B)
    n_neg = torch.bincount(b, weights=(~pos).double(), minlength=B)
    rate = torch.where(n_neg > 0, n_pos / n_neg.clamp(min=1),
                       torch.zeros_like(n_pos)).clamp(max=1.0)
    u = _uniform(N, generator, device)
    return pos | (u < rate[b])


def _per_video_mean(values: torch.Tensor, batch_idx: torch.Tensor,
                    num_videos: int) -> torch.Tensor:
    """Mean of ``values`` within each video (0 for a video with none), then
    the mean of those over all ``num_videos`` videos of the batch."""
    b = batch_idx.long()
    total = values.new_zeros(num_videos).index_add(0, b, values)
    count = torch.bincount(b, minlength=num_videos).to(values.dtype)
    return (total / count.clamp(min=1)).sum() / max(int(num_videos), 1)


@MODELS.register_module()
class InstanceLoss(nn.Module):
    """Score and regression losses of stage 2.

    ``forward(head, features, mask, mined, generator)`` runs the whole
    stage-2 loss of a batch (pool cut, targets, negative sampling, head,
    losses); :meth:`loss_terms` is the loss arithmetic on given predictions.

    Args:
        pos_iou (float): positive threshold on the target. Defaults to 0.3.
        reg_weight (float): weight of ``loss_reg``. Defaults to 1.0.
        score_weight (float): weight of ``loss_score``. Defaults to 1.0.
        max_proposals (int, optional): the pool (PP and NP) of a video is
            cut to this many at random before targets (:func:`cut_pool`).
            Defaults to 1000.
        beta (float): SmoothL1 beta. Defaults to 1.0.
    """

    def __init__(self, pos_iou: float = 0.3, reg_weight: float = 1.0,
                 score_weight: float = 1.0,
                 max_proposals: Optional[int] = 1000,
                 beta: float = 1.0) -> None:
        super().__init__()
        self.pos_iou = pos_iou
        self.reg_weight = reg_weight
        self.score_weight = score_weight
        self.max_proposals = max_proposals
        self.beta = beta

    def forward(self, head: nn.Module, features: torch.Tensor,
                mask: torch.Tensor, mined: Dict[str, Dict[str, torch.Tensor]],
                generator: Optional[torch.Generator] = None
                ) -> Dict[str, torch.Tensor]:
        """Stage-2 losses of a batch, from its mined proposal sets.

        Per video, the pool is its PP followed by its NP, cut at random to
        ``max_proposals`` (:func:`cut_pool`); each pooled proposal's target
        is its max tIoU with the video's RPs (:func:`assign_targets`); the
        positives and the sampled negatives (:func:`sample_negatives`) go
        through ``head`` (an ``InstanceHead``); :meth:`loss_terms` gives the
        losses.

        Args:
            head: the instance head.
            features: ``[B, T, D]``; mask: ``[B, T]``.
            mined: ``dict(pp=..., rp=..., np=...)`` of flat tensors with
                ``batch_idx`` (position in the batch), ``start``, ``end``
                (snippet units), e.g. ``stage2_batch.gather_mined_proposals``
                or ``mining.mine_proposals`` output.
            generator: seeds the pool cut and the negative sampling.

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
        cut = cut_pool(pool_b, self.max_proposals, generator)
        pool_b, pool_s, pool_e = pool_b[cut], pool_s[cut], pool_e[cut]
        rp_b = col(rp, 'batch_idx', torch.long)
        rp_s = col(rp, 'start', features.dtype)
        rp_e = col(rp, 'end', features.dtype)
        with torch.no_grad():
            target = assign_targets(pool_s, pool_e, pool_b, rp_s, rp_e, rp_b)
        keep = torch.nonzero(
            sample_negatives(target, pool_b, self.pos_iou, generator),
            as_tuple=True)[0]
        out = head(features, mask, pool_b[keep], pool_s[keep], pool_e[keep])
        return self.loss_terms(out['p_comp'], out['refined_start'],
                               out['refined_end'], target[keep], pool_b[keep],
                               rp_s, rp_e, rp_b, num_videos=features.shape[0])

    def loss_terms(self, p_comp: torch.Tensor, refined_start: torch.Tensor,
                   refined_end: torch.Tensor, target: torch.Tensor,
                   batch_idx: torch.Tensor, rp_start: torch.Tensor,
                   rp_end: torch.Tensor, rp_batch: torch.Tensor,
                   num_videos: Optional[int] = None
                   ) -> Dict[str, torch.Tensor]:
        """Losses over the kept proposals (already sampled).

        ``loss_reg``: per video, the mean over its positives of
        ``SmoothL1(max tIoU(refined, RPs), 1)``; ``loss_score``: per video,
        the mean over its kept proposals of ``SmoothL1(p_comp, target)``;
        each then averaged over the ``num_videos`` videos of the batch (a
        video without kept proposals counts as 0), as the reference does.

        Args:
            p_comp: ``[K]`` predicted completeness.
            refined_start, refined_end: ``[K]`` refined boxes (unclipped).
            target: ``[K]`` from :func:`assign_targets` (no gradient).
            batch_idx: ``[K]`` video of each proposal.
            rp_start, rp_end, rp_batch: ``[M]`` RPs of the batch's videos.
            num_videos: videos in the batch; ``None``: ``max(batch_idx) + 1``.

        Returns:
            ``dict(loss_reg, loss_score)``, weighted.
        """
        target = target.detach().to(p_comp.dtype)
        b = batch_idx.long()
        if num_videos is None:
            num_videos = int(b.max().item()) + 1 if b.numel() else 1
        pos = target >= self.pos_iou
        # zero terms stay in the graph, so every step has a backward pass
        zero = (refined_start.sum() + refined_end.sum() + p_comp.sum()) * 0.0
        if pos.any():
            r_iou = assign_targets(refined_start[pos], refined_end[pos],
                                   b[pos], rp_start, rp_end, rp_batch)
            reg = F.smooth_l1_loss(r_iou, torch.ones_like(r_iou),
                                   beta=self.beta, reduction='none')
            loss_reg = _per_video_mean(reg, b[pos], num_videos) + zero
        else:
            loss_reg = zero
        if p_comp.numel():
            sc = F.smooth_l1_loss(p_comp, target, beta=self.beta,
                                  reduction='none')
            loss_score = _per_video_mean(sc, b, num_videos) + zero
        else:
            loss_score = zero
        return dict(loss_reg=self.reg_weight * loss_reg,
                    loss_score=self.score_weight * loss_score)
