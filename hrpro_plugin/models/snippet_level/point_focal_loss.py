"""Point-level focal loss of HR-Pro stage 1 (action and background terms)."""
from typing import Dict

import torch
from mmaction.registry import MODELS
from torch import nn


@MODELS.register_module()
class PointFocalLoss(nn.Module):
    """Focal loss at point snippets (action term) and background seeds
    (background term), each normalised per video and averaged over the
    videos of the batch.

    Per element, with p clamped to ``[eps, 1 - eps]``: target 1 gives
    ``-(1 - p)^gamma log p``, target 0 gives ``-p^gamma log(1 - p)``; the
    element losses are summed over the C + 1 channels.

    Args:
        gamma (float): focusing parameter. Defaults to 2.0.
        action_weight (float): weight of ``loss_action``. Defaults to 0.5.
        background_weight (float): weight of ``loss_background``.
            Defaults to 1.0.
        eps (float): probability clamp. Defaults to 1e-6.
    """

    def __init__(self, gamma: float = 2.0, action_weight: float = 0.5,
                 background_weight: float = 1.0, eps: float = 1e-6) -> None:
        super().__init__()
        self.gamma = gamma
        self.action_weight = action_weight
        self.background_weight = background_weight
        self.eps = eps

    def forward(self, scores: torch.Tensor, point_labels: torch.Tensor,
                bg_seeds: torch.Tensor,
                mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """
        Args:
            scores: ``[B, T, C + 1]`` probabilities (fused CAS classes, then
                the background channel).
            point_labels: ``[B, T, C]`` multi-hot point labels.
            bg_seeds: ``[B, T]`` bool background seeds.
            mask: ``[B, T]`` bool, True on valid snippets.

        Returns:
            dict(loss_action=scalar, loss_background=scalar), each already
            multiplied by its weight.
        """
        mask = mask.bool()
        num_classes = point_labels.shape[-1]
        # neutral values at padded snippets keep garbage out of the graph
        p = torch.where(mask[..., None], scores, torch.full_like(scores, 0.5))
        p = p.clamp(self.eps, 1.0 - self.eps)
        pos = -(1.0 - p).pow(self.gamma) * torch.log(p)         # target 1
        neg = -p.pow(self.gamma) * torch.log1p(-p)              # target 0

        # action term: multi-hot classes, background 0
        act_target = (point_labels > 0).to(p.dtype)
        act_target = torch.cat(
            [act_target, act_target.new_zeros(act_target.shape[:-1] + (1,))],
            dim=-1)
        act_elem = act_target * pos + (1.0 - act_target) * neg
        act_rows = (point_labels > 0).any(dim=-1) & mask        # [B, T]
        act_snip = act_elem.sum(dim=-1)                         # [B, T]

        # background term: classes 0, background 1
        bg_snip = neg[..., :num_classes].sum(dim=-1) + pos[..., num_classes]
        bg_rows = bg_seeds.bool() & mask

        loss_action = self._per_video(act_snip, act_rows).mean()
        loss_background = self._per_video(bg_snip, bg_rows).mean()
        return dict(loss_action=self.action_weight * loss_action,
                    loss_background=self.background_weight * loss_background)

    @staticmethod
    def _per_video(values: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """Mean of ``values`` over the selected rows of each video (0 when a
        video selects none) -> ``[B]``."""
        total = torch.where(rows, values, torch.zeros_like(values)).sum(dim=1)
        count = rows.sum(dim=1).clamp(min=1).to(values.dtype)
        return total / count
