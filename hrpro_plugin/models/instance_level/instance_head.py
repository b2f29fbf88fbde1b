"""Instance-level head of HR-Pro stage 2 (docs/method.md, "Stage 2" and
"Inference"): completeness score and boundary regression of proposals.

Proposals are flat tensors ``batch_idx [N], start [N], end [N]`` in snippet
units. Each proposal is extended by ``extend_ratio x length`` on both sides,
RoI-aligned into ``num_bins`` bins (:func:`roi_align_1d`) and max-pooled
over three groups of bins: the start context (the first ``n_ctx`` bins),
the inside and the end context (the last ``n_ctx`` bins), with
``n_ctx = round(num_bins * r / (1 + 2 r))`` (2 of 12 for ``r = 0.25``:
bins 0-1, 2-9, 10-11), i.e. the bins covering the extension.

* score: ``[inside - start, inside, inside - end]`` (3D) -> Linear(3D,
  H1) + ReLU + Dropout(0.7) -> Linear(H1, H2) + ReLU -> Linear(H2, 1) ->
  sigmoid = ``p_comp``;
* regression: ``d_start`` from the start context, ``d_end`` from the end
  context, each Linear(D, H) + ReLU + Linear(H, 1); refined
  ``s' = s + d_start * w``, ``e' = e + d_end * w`` with ``w = e - s``.

Widths: ``H1, H2 = hidden_score`` and ``H = hidden_reg``, by default 2048,
1024 and 1024 for any D: the reference's widths on I3D features (D = 2048).
The reference code sizes them from the features (D, D/2 and D/2), so on
other features its head is narrower; ``hidden_score=None, hidden_reg=None``
sizes them as it does. The two agree at D = 2048.

Inference (:meth:`InstanceHead.predict`): head(original) gives ``p_comp``
and the offsets; :func:`refine_and_clip` clips the refined boxes to the
video and marks the empty ones invalid; head(refined valid) gives their
``p_comp``; :func:`fuse_predictions` emits both sets for soft-NMS.
"""
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmaction.registry import MODELS
from torch import nn

from hrpro_plugin.models.instance_level.roi_align import (extend_proposals,
                                                     roi_align_1d)
from ..dropout import FastDropout


def refine_and_clip(start: torch.Tensor, end: torch.Tensor,
                    d_start: torch.Tensor, d_end: torch.Tensor,
                    video_len: torch.Tensor
                    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Refined boxes clipped to the video (a departure from the reference, docs/method.md).

    ``s' = s + d_start * w``, ``e' = e + d_end * w`` (``w = e - s``), then both
    clipped to ``[0, video_len]``; ``valid = e' > s'`` after clipping (an
    invalid one must be dropped: the caller keeps only the original).

    Args:
        start, end, d_start, d_end: ``[N]``.
        video_len: ``[N]`` valid length (snippets) of each proposal's video.

    Returns:
        ``(s' [N], e' [N], valid [N] bool)``.
    """
    w = end - start
    video_len = video_len.to(start.dtype)
    s = torch.minimum(torch.clamp(start + d_start * w, min=0), video_len)
    e = torch.minimum(torch.clamp(end + d_end * w, min=0), video_len)
    return s, e, e > s


def unique_boxes(batch_idx: torch.Tensor, start: torch.Tensor,
                 end: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Distinct ``(video, start, end)`` boxes: ``(first [U], inverse [N])``,
    the first index of each distinct box and, for every box, the position
    of its distinct box in ``first`` (so ``x[first][inverse]`` repeats ``x``
    of equal boxes)."""
    n = batch_idx.numel()
    if n == 0:
        empty = torch.zeros(0, dtype=torch.long, device=batch_idx.device)
        return empty, empty
    key = torch.stack([batch_idx.double(), start.double(), end.double()], 1)
    _, inverse = torch.unique(key, dim=0, return_inverse=True)
    first = torch.full((int(inverse.max()) + 1, ), n, dtype=torch.long,
                       device=batch_idx.device)
    first.scatter_reduce_(0, inverse, torch.arange(n, device=first.device),
                          'amin')
    return first, inverse


def fuse_predictions(batch_idx: torch.Tensor, start: torch.Tensor,
                     end: torch.Tensor, label: torch.Tensor,
                     oic: torch.Tensor, p_comp: torch.Tensor,
                     refined_start: torch.Tensor, refined_end: torch.Tensor,
                     refined_valid: torch.Tensor,
                     p_comp_refined: torch.Tensor
                     ) -> Dict[str, torch.Tensor]:
    """Both versions of each candidate, as flat tensors for soft-NMS.

    Rows ``0..N-1`` are ``(s, e, c, OIC + p_comp(s, e))`` in candidate order;
    then one row ``(s', e', c, OIC + p_comp(s', e'))`` per candidate whose
    refined box is valid, in candidate order.

    Args:
        batch_idx, start, end, label, oic, p_comp: ``[N]`` per candidate.
        refined_start, refined_end: ``[N]`` (clipped), refined_valid ``[N]``.
        p_comp_refined: ``[N]`` (entries of invalid boxes ignored) or
            ``[N_valid]`` (the valid boxes only, in order).

    Returns:
        ``dict(batch_idx, start, end, label, score, refined [M] bool,
        source [M] long)`` (``source``: the candidate each row came from).
    """
    N = start.numel()
    valid = refined_valid.bool()
    src = torch.arange(N, device=start.device)
    vidx = src[valid]
    pr = p_comp_refined if p_comp_refined.numel() != N else p_comp_refined[valid]
    if pr.numel() != vidx.numel():
        raise ValueError(
            f'p_comp_refined has {p_comp_refined.numel()} entries; expected '
            f'{N} (all candidates) or {vidx.numel()} (valid refined ones)')
    return dict(
        batch_idx=torch.cat([batch_idx, batch_idx[vidx]]),
        start=torch.cat([start, refined_start[vidx]]),
        end=torch.cat([end, refined_end[vidx]]),
        label=torch.cat([label, label[vidx]]),
        score=torch.cat([oic + p_comp, oic[vidx] + pr]),
        refined=torch.cat([torch.zeros(N, dtype=torch.bool, device=start.device),
                           torch.ones(vidx.numel(), dtype=torch.bool,
                                      device=start.device)]),
        source=torch.cat([src, vidx]))


def _mlp(dims: Sequence[int], dropout_after_first: float = 0.0) -> nn.Sequential:
    layers = []
    for i in range(len(dims) - 1):
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        if i < len(dims) - 2:
            layers.append(nn.ReLU(inplace=True))
            if i == 0 and dropout_after_first > 0:
                layers.append(FastDropout(dropout_after_first))
    return nn.Sequential(*layers)


@MODELS.register_module()
class InstanceHead(nn.Module):
    """Completeness score and boundary regression of proposals.

    Args:
        in_channels (int): feature width D.
        hidden_score (Sequence[int], optional): hidden widths of the score
            head. Defaults to (2048, 1024) (the reference's at D = 2048).
            ``None``: ``(D, D // 2)``, sized from the features as the
            reference sizes them.
        hidden_reg (int, optional): hidden width of each regression branch.
            Defaults to 1024. ``None``: ``D // 2``, as the reference.
        dropout (float): dropout after the first score layer. Defaults to 0.7.
        num_bins (int): RoI-align bins. Defaults to 12.
        extend_ratio (float): extension on each side. Defaults to 0.25.
        sampling_ratio (int, optional): RoI-align samples per bin; ``None``
            (default): adaptive, ``ceil(RoI length / num_bins)``, as the
            reference's torchvision call (see :func:`roi_align_1d`).
        score_inside_mean (bool): also give the score head the mean of the
            inside bins (input 4D instead of 3D). Not in the method: the
            max-pooled input barely changes when a box is too long; the
            mean drops as background fills the box (README, "A score head
            that also reads the inside mean"). Defaults to False (the
            method).
    """

    def __init__(self, in_channels: int,
                 hidden_score: Optional[Sequence[int]] = (2048, 1024),
                 hidden_reg: Optional[int] = 1024, dropout: float = 0.7,
                 num_bins: int = 12, extend_ratio: float = 0.25,
                 sampling_ratio: Optional[int] = None,
                 score_inside_mean: bool = False) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.num_bins = int(num_bins)
        self.extend_ratio = float(extend_ratio)
        self.sampling_ratio = (None if sampling_ratio is None
                               else int(sampling_ratio))
        n_ctx = int(round(num_bins * extend_ratio / (1 + 2 * extend_ratio)))
        if n_ctx < 1 or num_bins - 2 * n_ctx < 1:
            raise ValueError(
                f'num_bins={num_bins} with extend_ratio={extend_ratio} leaves '
                f'{n_ctx} context bins a side; need >= 1 context and >= 1 '
                'inside bin')
        self.num_ctx_bins = n_ctx
        if hidden_score is None:
            hidden_score = (in_channels, max(in_channels // 2, 1))
        if hidden_reg is None:
            hidden_reg = max(in_channels // 2, 1)
        self.hidden_score = tuple(int(h) for h in hidden_score)
        self.hidden_reg = int(hidden_reg)
        self.score_inside_mean = bool(score_inside_mean)
        self.score_head = _mlp([(3 + self.score_inside_mean) * in_channels,
                                *self.hidden_score, 1], dropout)
        self.start_reg = _mlp([in_channels, self.hidden_reg, 1])
        self.end_reg = _mlp([in_channels, self.hidden_reg, 1])

    def pool(self, features: torch.Tensor, mask: torch.Tensor,
             batch_idx: torch.Tensor, start: torch.Tensor, end: torch.Tensor
             ) -> Tuple[torch.Tensor, ...]:
        """Max-pooled ``(start_ctx, inside, end_ctx)``, each ``[N, D]``,
        then the mean of the inside bins where ``score_inside_mean``."""
        es, ee = extend_proposals(start, end, self.extend_ratio)
        bins = roi_align_1d(features, mask, batch_idx, es, ee,
                            self.num_bins, self.sampling_ratio)
        k = self.num_ctx_bins
        inside = bins[:, k:self.num_bins - k]
        out = (bins[:, :k].amax(1), inside.amax(1),
               bins[:, self.num_bins - k:].amax(1))
        if self.score_inside_mean:
            out += (inside.mean(1), )
        return out

    def score_input(self, pooled: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        """``[inside - start, inside, inside - end]`` (+ the inside mean)."""
        f_s, f_in, f_e = pooled[:3]
        return torch.cat([f_in - f_s, f_in, f_in - f_e, *pooled[3:]], dim=-1)

    def forward(self, features: torch.Tensor, mask: torch.Tensor,
                batch_idx: torch.Tensor, start: torch.Tensor,
                end: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Args: features ``[B, T, D]``, mask ``[B, T]``, proposals ``[N]``.

        Returns ``dict(p_comp, d_start, d_end, refined_start, refined_end)``,
        each ``[N]`` (refined boxes not clipped; see :func:`refine_and_clip`).
        """
        start = start.to(features.dtype)
        end = end.to(features.dtype)
        pooled = self.pool(features, mask, batch_idx, start, end)
        f_s, f_e = pooled[0], pooled[2]
        x = self.score_input(pooled)
        p_comp = torch.sigmoid(self.score_head(x).squeeze(-1))
        d_start = self.start_reg(f_s).squeeze(-1)
        d_end = self.end_reg(f_e).squeeze(-1)
        w = end - start
        return dict(p_comp=p_comp, d_start=d_start, d_end=d_end,
                    refined_start=start + d_start * w,
                    refined_end=end + d_end * w)

    def score(self, features: torch.Tensor, mask: torch.Tensor,
              batch_idx: torch.Tensor, start: torch.Tensor,
              end: torch.Tensor) -> torch.Tensor:
        """``p_comp [N]`` only (skips the regression branches)."""
        x = self.score_input(self.pool(features, mask, batch_idx,
                                       start.to(features.dtype),
                                       end.to(features.dtype)))
        return torch.sigmoid(self.score_head(x).squeeze(-1))

    def predict(self, features: torch.Tensor, mask: torch.Tensor,
                candidates: Dict[str, torch.Tensor],
                video_len: Optional[torch.Tensor] = None,
                use_score: bool = True, use_regression: bool = True
                ) -> Dict[str, torch.Tensor]:
        """Fused predictions of candidates (docs/method.md, "Inference").

        Args:
            features: ``[B, T, D]``; mask: ``[B, T]``.
            candidates: ``dict(batch_idx, start, end, label, score)`` with
                ``score`` the OIC (snippet units).
            video_len: ``[B]`` valid lengths (default: from ``mask``).
            use_score: add ``p_comp`` to the OIC (False: OIC only; the
                L_reg-only ablation, whose score branch is untrained).
            use_regression: also emit the refined proposals (False: the
                originals only; the L_score-only ablation).

        Returns:
            :func:`fuse_predictions`' dict (snippet units).
        """
        b = candidates['batch_idx'].long()
        if video_len is None:
            video_len = mask.long().sum(1)
        s = candidates['start'].to(features.dtype)
        e = candidates['end'].to(features.dtype)
        # the head sees (video, start, end) only, and the candidates of the
        # classes of a video repeat boxes (about half of them on THUMOS14):
        # run it once per distinct box, then copy the results back
        first, inv = unique_boxes(b, s, e)
        ub, us, ue = b[first], s[first], e[first]
        out = self.forward(features, mask, ub, us, ue)
        rs, re, valid = refine_and_clip(us, ue, out['d_start'],
                                        out['d_end'],
                                        video_len.to(features.device)[ub])
        if not use_regression:
            valid = torch.zeros_like(valid)
        vidx = torch.nonzero(valid, as_tuple=True)[0]
        p_ref = torch.zeros_like(rs)
        p_ref[vidx] = self.score(features, mask, ub[vidx], rs[vidx], re[vidx])
        p_comp = out['p_comp']
        if not use_score:
            p_comp, p_ref = torch.zeros_like(p_comp), torch.zeros_like(p_ref)
        return fuse_predictions(b, s, e, candidates['label'],
                                candidates['score'].to(features.dtype),
                                p_comp[inv], rs[inv], re[inv], valid[inv],
                                p_ref[inv])

    def fuse(self, features: torch.Tensor, mask: torch.Tensor,
             candidates: Dict[str, torch.Tensor],
             video_len: Optional[torch.Tensor] = None, **kwargs
             ) -> Tuple[torch.Tensor, ...]:
        """:meth:`predict` as a tuple ``(start, end, label, batch_idx,
        score)`` of flat tensors (snippet units), ready for soft-NMS."""
        out = self.predict(features, mask, candidates, video_len, **kwargs)
        return (out['start'], out['end'], out['label'], out['batch_idx'],
                out['score'])
