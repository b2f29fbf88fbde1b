"""The two small parts that the configs of this folder register (not a config
file: the configs import it through ``custom_imports``; docs/mixing.md).

* :class:`TemporalConvNeck`: a plain neck for HR-Pro's heads (the RAB
  neck's call contract, no attention, no prototype tokens);
* :class:`PointMLPLocalizer`: an MMAction2-style model of its own (a
  per-snippet MLP trained from the points with MMAction2's
  ``BCELossWithLogits``) that reuses HR-Pro's dataset, pseudo-snippet miner,
  candidate generator, soft-NMS and metric.

Importable as ``configs.examples.mixing_modules`` from the repository root
(``tools/*.py`` put the root on ``sys.path``).
"""
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

import hrpro_plugin  # noqa: F401  (registers HR-Pro's parts, applies compat)
import mmaction.models.losses  # noqa: F401,E402  (registers BCELossWithLogits)
from mmaction.registry import MODELS  # noqa: E402
from hrpro_plugin.models.snippet_level.snippet_head import \
    masked_topk_mean  # noqa: E402
from hrpro_plugin.models.localizers.hrpro import HRPro  # noqa: E402
from hrpro_plugin.models.proposals.candidates import \
    generate_candidates  # noqa: E402
from hrpro_plugin.models.snippet_level.pseudo_snippets import \
    mine_pseudo_snippets  # noqa: E402
from hrpro_plugin.models.utils import (batch_lengths,  # noqa: E402
                                       batch_point_labels, batch_video_labels,
                                       lengths_to_mask)


@MODELS.register_module()
class TemporalConvNeck(nn.Module):
    """Residual temporal convolutions: per layer
    ``x = LN(x + Dropout(ReLU(Conv1d(x))))``, width kept at D.

    The neck contract of :class:`hrpro_plugin.models.HRPro`: built with
    ``in_channels`` (D) and ``num_classes`` (C) plus the config's keys;
    called as ``neck(x [B, T, D], mask [B, T] bool, prototypes [C, D])`` and
    returns ``[B, T, D]``, zero at padded snippets. The prototypes are
    ignored. Padded snippets are zeroed before every convolution, so a video
    sees zeros past its end whether it is alone or padded in a batch: its
    output does not depend on its batch.

    Args:
        in_channels (int): D.
        num_classes (int): C (unused; part of the contract).
        num_layers (int): convolution layers.
        kernel_size (int): odd temporal kernel size (snippets).
        dropout (float): on each residual branch (training only).
    """

    def __init__(self, in_channels: int, num_classes: int,
                 num_layers: int = 2, kernel_size: int = 3,
                 dropout: float = 0.3) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f'kernel_size must be odd, got {kernel_size}')
        self.convs = nn.ModuleList(
            nn.Conv1d(in_channels, in_channels, kernel_size,
                      padding=kernel_size // 2) for _ in range(num_layers))
        self.norms = nn.ModuleList(
            nn.LayerNorm(in_channels) for _ in range(num_layers))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor,
                prototypes: Optional[torch.Tensor] = None) -> torch.Tensor:
        valid = mask.bool()[..., None]
        x = x.masked_fill(~valid, 0.0)
        for conv, norm in zip(self.convs, self.norms):
            y = F.relu(conv(x.transpose(1, 2)).transpose(1, 2))
            x = norm(x + self.drop(y)).masked_fill(~valid, 0.0)
        return x


@MODELS.register_module()
class PointMLPLocalizer(BaseModel):
    """A per-snippet MLP with C class logits and one background logit.

    Training (``mode='loss'``), all with MMAction2's ``BCELossWithLogits``:

    * ``loss_point``: at point snippets, target = their classes, background 0;
    * ``loss_background``: at HR-Pro's background seeds
      (``mine_pseudo_snippets`` on the background probability), target =
      background only;
    * ``loss_video``: the top-k mean of the class logits (k = T // 8) against
      the video's multi-hot label.

    Inference (``mode='predict'``): ``cas = sigmoid(class logits)``,
    ``attn = 1 - sigmoid(background logit)``, HR-Pro's candidate generator
    on ``cas * attn``, soft-NMS, then ``HRPro.pack_predictions`` (snippets
    -> seconds) so that ``TALmAPMetric`` reads ``pred_instances``.

    Args:
        feat_dim (int): D (filled by the tools from the data when None).
        num_classes (int): C (filled from the dataset's class list).
        hidden_channels (int): MLP width.
        dropout (float): MLP dropout.
        topk_ratio (int): video score = top ``max(1, T // topk_ratio)`` mean.
        loss (dict): the loss config.
        video_loss_weight (float): weight of ``loss_video``.
        pseudo_cfg (dict): ``mine_pseudo_snippets`` thresholds.
        proposal_cfg (dict): ``generate_candidates`` keys.
        post_processor (dict): HR-Pro's ``SoftNMSPostProcessor``.
    """

    def __init__(self,
                 feat_dim: int,
                 num_classes: int,
                 hidden_channels: int = 256,
                 dropout: float = 0.5,
                 topk_ratio: int = 8,
                 loss: dict = dict(type='BCELossWithLogits'),
                 video_loss_weight: float = 1.0,
                 pseudo_cfg: dict = dict(bg_thresh=0.95, act_thresh=0.1),
                 proposal_cfg: Optional[dict] = None,
                 post_processor: dict = dict(type='SoftNMSPostProcessor'),
                 data_preprocessor: dict = dict(
                     type='PointTALDataPreprocessor'),
                 init_cfg: Optional[dict] = None) -> None:
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if feat_dim is None or num_classes is None:
            raise ValueError('PointMLPLocalizer needs feat_dim and '
                             'num_classes (tools/train.py fills them)')
        self.num_classes = int(num_classes)
        self.topk_ratio = int(topk_ratio)
        self.mlp = nn.Sequential(
            nn.Linear(int(feat_dim), hidden_channels), nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden_channels, self.num_classes + 1))
        self.loss_fn = MODELS.build(loss)
        self.video_loss_weight = float(video_loss_weight)
        self.pseudo_cfg = dict(pseudo_cfg)
        self.proposal_cfg = dict(proposal_cfg or {})
        self.post_processor = MODELS.build(post_processor)

    def _outputs(self, inputs: torch.Tensor,
                 data_samples: Optional[Sequence]) -> Dict[str, torch.Tensor]:
        b, t, _ = inputs.shape
        if data_samples is None:
            mask = inputs.new_ones(b, t, dtype=torch.bool)
        else:
            mask = lengths_to_mask(
                batch_lengths(data_samples, device=inputs.device), t)
        logits = self.mlp(inputs)                              # [B, T, C+1]
        c = self.num_classes
        cas = torch.sigmoid(logits[..., :c]) * mask[..., None]
        bg = torch.sigmoid(logits[..., c]) * mask
        attn = (1.0 - bg) * mask
        return dict(logits=logits, mask=mask, cas=cas, bg=bg, attn=attn,
                    fused_cas=cas * attn[..., None],
                    video_scores=masked_topk_mean(cas, mask, self.topk_ratio))

    def forward(self, inputs: torch.Tensor, data_samples=None,
                mode: str = 'tensor'):
        out = self._outputs(inputs, data_samples)
        if mode == 'tensor':
            return out
        if mode == 'loss':
            return self.loss(out, data_samples)
        if mode == 'predict':
            return self.predict(out, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}": use loss, predict or '
                           'tensor')

    def loss(self, out: Dict, data_samples: Sequence) -> Dict:
        logits, mask = out['logits'], out['mask']
        b, t, _ = logits.shape
        c = self.num_classes
        points = batch_point_labels(data_samples, t, c,
                                    device=logits.device)     # [B, T, C]
        with torch.no_grad():
            _, bg_seeds = mine_pseudo_snippets(points, out['bg'].detach(),
                                               mask, **self.pseudo_cfg)
        zero = logits.sum() * 0.0
        at_point = (points.sum(-1) > 0) & mask
        target = torch.cat([points, points.new_zeros(b, t, 1)], -1)
        losses = dict(loss_point=self.loss_fn(logits[at_point],
                                              target[at_point])
                      if at_point.any() else zero)
        bg_target = logits.new_zeros(c + 1)
        bg_target[c] = 1.0
        seeds = logits[bg_seeds]
        losses['loss_background'] = self.loss_fn(
            seeds, bg_target.expand_as(seeds)) if seeds.numel() else zero
        video_logits = masked_topk_mean(logits[..., :c], mask,
                                        self.topk_ratio)
        losses['loss_video'] = self.video_loss_weight * self.loss_fn(
            video_logits, batch_video_labels(data_samples,
                                             device=logits.device))
        return losses

    def predict(self, out: Dict, data_samples: Sequence):
        cand = generate_candidates(out['fused_cas'], out['attn'],
                                   out['video_scores'], out['mask'],
                                   **self.proposal_cfg)
        segments = torch.stack([cand['start'], cand['end']], -1)
        keep, scores = self.post_processor(segments, cand['score'],
                                           cand['label'], cand['batch_idx'])
        return HRPro.pack_predictions(data_samples, segments[keep],
                                      cand['label'][keep], scores,
                                      cand['batch_idx'][keep],
                                      out['video_scores'])
