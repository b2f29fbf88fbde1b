"""Snippet-level head of HR-Pro stage 1: embedding, class activation
sequence (CAS) with a background channel, fused CAS and top-k video scores.
"""
from typing import Dict

import torch
import torch.nn.functional as F
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

    def _packed(self, x: torch.Tensor, mask: torch.Tensor):
        """Embedding and sigmoid outputs ``[B * T, D]`` and ``[B * T, C + 1]``
        (zero at padded positions), computed on the valid snippets only.

        The same function as the two convolutions over the padded batch
        (the k=3 convolution sees zeros beyond each video's ends either
        way), written as matrix products over the valid snippets: a THUMOS14
        batch of whole videos is about 40% padding, and the convolutions
        over it were the costliest part of the head.
        """
        b, t, d = x.shape
        conv, _ = self.embedding
        drop, classifier = self.classifier
        idx = mask.flatten().nonzero().squeeze(1)               # [N]
        # (b, t) in the batch padded by one zero snippet on each side
        padded = F.pad(x, (0, 0, 1, 1)).flatten(0, 1)
        rows = idx + 2 * torch.div(idx, t, rounding_mode='floor') + 1
        taps = torch.cat([padded.index_select(0, rows - 1),
                          padded.index_select(0, rows),
                          padded.index_select(0, rows + 1)], 1)  # [N, 3D]
        weight = conv.weight.permute(0, 2, 1).reshape(d, 3 * d)
        emb = F.relu(F.linear(taps, weight, conv.bias))
        probs = torch.sigmoid(F.linear(drop(emb), classifier.weight[..., 0],
                                       classifier.bias))
        emb_all = emb.new_zeros(b * t, d).index_copy(0, idx, emb)
        probs_all = probs.new_zeros(b * t, probs.shape[1]).index_copy(
            0, idx, probs)
        return emb_all, probs_all

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
        emb, probs = self._packed(x, mask)
        embedded = emb.view(x.shape)                           # [B, T, D]
        probs = probs.view(x.shape[0], x.shape[1], -1)         # [B, T, C+1]
        cas = probs[..., :self.num_classes]
        bg = probs[..., self.num_classes]
        attn = (1.0 - bg).masked_fill(~mask, 0.0)
        fused_cas = cas * attn[..., None]
        video_scores = masked_topk_mean(cas, mask, self.topk_ratio)
        return dict(embedded=embedded, cas=cas, bg=bg, attn=attn,
                    fused_cas=fused_cas, video_scores=video_scores,
                    mask=mask)
