"""What one stage-1 pass over a padded batch gives (``HRPro.snippet_pass``)."""
from dataclasses import dataclass
from typing import Dict, Optional

import torch

# the per-snippet fields, batch-first ``[B, T, ...]``
_PER_SNIPPET = ('cas', 'fused_cas', 'attn', 'bg', 'embedded')


@dataclass
class SnippetPass:
    """The stage-1 outputs of a padded batch of ``B`` videos of at most
    ``T`` snippets, all on the model's device.

    Attributes:
        mask: ``[B, T]`` bool, True on the valid snippets of each video.
        outputs: the snippet head's outputs, float32: ``cas`` and
            ``fused_cas`` ``[B, T, C]``, ``attn`` and ``bg`` ``[B, T]``,
            ``video_scores`` ``[B, C]``, ``embedded`` ``[B, T, D]`` (the
            RAB output). They carry gradients where the pass ran with them
            (training); nothing else here does.
        point_labels: ``[B, T, C]`` multi-hot point labels (``points`` or
            ``pseudo`` asked), else ``None``.
        act_labels: ``[B, T, C]`` float 0/1 pseudo action snippets
            (``pseudo`` asked), else ``None``.
        bg_seeds: ``[B, T]`` bool pseudo background snippets (``pseudo``
            asked), else ``None``.
        candidates: the candidate proposals of the batch, flat tensors
            ``batch_idx``, ``start``, ``end`` (snippet units), ``label``,
            ``score`` (OIC), not capped (``candidates`` asked), else
            ``None``.
    """

    mask: torch.Tensor
    outputs: Dict[str, torch.Tensor]
    point_labels: Optional[torch.Tensor] = None
    act_labels: Optional[torch.Tensor] = None
    bg_seeds: Optional[torch.Tensor] = None
    candidates: Optional[Dict[str, torch.Tensor]] = None

    @property
    def lengths(self) -> torch.Tensor:
        """``[B]`` valid lengths."""
        return self.mask.sum(1)

    def video(self, i: int) -> Dict[str, torch.Tensor]:
        """Video ``i``'s per-snippet tensors cut to its valid length
        (``cas``, ``fused_cas``, ``attn``, ``bg``, ``embedded`` and, where
        computed, ``point_labels``, ``act_labels``, ``bg_seeds``) and its
        ``video_scores`` ``[C]``; detached, on the model's device."""
        n = int(self.mask[i].sum())
        out = {k: v[i, :n].detach() for k, v in self.outputs.items()
               if k in _PER_SNIPPET}
        out['video_scores'] = self.outputs['video_scores'][i].detach()
        for key in ('point_labels', 'act_labels', 'bg_seeds'):
            value = getattr(self, key)
            if value is not None:
                out[key] = value[i, :n]
        return out
