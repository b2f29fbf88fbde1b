"""Snippet-level head of HR-Pro stage 1: embedding, class activation
sequence (CAS) with a background channel, fused CAS and top-k video scores.
"""
from typing import Dict

import torch
from mmaction.registry import MODELS
from torch import nn

from ..dropout import FastDropout


def masked_topk_mean(scores: torch.Tensor, mask: torch.Tensor,
                     topk_ratio: int) -> torch.Tensor:
    """Mean of the top ``k_b = max(1, T_b // topk_ratio)`` valid values of
    each column, per video.

    Args:
        scores: ``[B, T, C]``.
        mask: ``[B, T]`` bool, True on valid snippets (T_b = mask[b].sum()).
        topk_ratio: the divisor of ``T_b``.

    Returns:
        ``[B, C]``.
    """
    lengths = mask.sum(dim=1)                                  # [B]
    k = torch.clamp(lengths // topk_ratio, min=1)              # [B]
    k_max = int(k.max().item()) if k.numel() else 1
    k_max = min(k_max, scores.shape[1])
    filled = scores.masked_fill(~mask[..., None], float('-inf'))
    top = torch.topk(filled, k_max, dim=1, sorted=True).values  # [B, k_max, C]
    keep = torch.arange(k_max, device=scores.device)[None, :] < k[:, None]
    top = torch.where(keep[..., None], top, torch.zeros_like(top))
    return top.sum(dim=1) / k[:, None].to(scores.dtype)


@MODELS.register_module()
class SnippetHead(nn.Module):
    """Embedding Conv1d(D, D, 3) + ReLU, then Dropout + Conv1d(D, C + 1, 1,
    no bias) with a sigmoid on every channel (the last one is background).

    Args:
        in_channels (int): feature width D.
        num_classes (int): number of action classes C.
        dropout (float): dropout before the classifier. Defaults to 0.7.
        topk_ratio (int): video score uses the top ``max(1, T // topk_ratio)``
            snippets. Defaults to 8.
    """

    def __init__(self, in_channels: int, num_classes: int,
                 dropout: float = 0.7, topk_ratio: int = 8) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.topk_ratio = topk_ratio
        self.embedding = nn.Sequential(
            nn.Conv1d(in_channels, in_channels, 3, padding=1),
            nn.ReLU(inplace=True))
        self.classifier = nn.Sequential(
            FastDropout(dropout),
            nn.Conv1d(in_channels, num_classes + 1, 1, bias=False))

    def forward(self, x: torch.Tensor,
                mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """
        Args:
            x: ``[B, T, D]`` features (RAB output).
            mask: ``[B, T]`` bool, True on valid snippets.

        Returns:
            dict with ``embedded [B, T, D]``, ``cas [B, T, C]``, ``bg [B, T]``,
            ``attn [B, T]`` (1 - bg), ``fused_cas [B, T, C]`` (cas * attn),
            ``video_scores [B, C]`` and ``mask [B, T]``. Every per-snippet
            output is zero at padded positions.
        """
        mask = mask.bool()
        valid = mask[..., None]
        x = x.masked_fill(~valid, 0.0)
        emb = self.embedding(x.transpose(1, 2))                # [B, D, T]
        logits = self.classifier(emb).transpose(1, 2)          # [B, T, C+1]
        embedded = emb.transpose(1, 2).masked_fill(~valid, 0.0)
        probs = torch.sigmoid(logits).masked_fill(~valid, 0.0)
        cas = probs[..., :self.num_classes]
        bg = probs[..., self.num_classes]
        attn = (1.0 - bg).masked_fill(~mask, 0.0)
        fused_cas = cas * attn[..., None]
        video_scores = masked_topk_mean(cas, mask, self.topk_ratio)
        return dict(embedded=embedded, cas=cas, bg=bg, attn=attn,
                    fused_cas=fused_cas, video_scores=video_scores,
                    mask=mask)
