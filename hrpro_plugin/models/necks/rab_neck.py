"""Reliability-aware attention blocks (RAB) of HR-Pro stage 1.

The C class prototypes are appended to the T snippet tokens of each video as
C extra tokens (the prototype vectors themselves, SPEC's Fix), every token
attends to all valid tokens (padded snippets are excluded through a key
padding mask; prototype tokens are always valid), each block passes all
T + C tokens on, and only the T snippet tokens leave the neck.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import nn


class RABlock(nn.Module):
    """One RAB block: q/k from 1x1 convolutions of x, v = x, multi-head
    attention (own in/out projections), then two post-norm residual steps.

    Args:
        channels (int): token width D.
        num_heads (int): attention heads (D must be divisible by it).
        ffn_channels (int): hidden width of the feed-forward network.
        attn_drop (float): dropout on the attention weights (training only).
        drop (float): dropout on both residual branches and inside the FFN.
    """

    def __init__(self, channels: int, num_heads: int = 8,
                 ffn_channels: int = 128, attn_drop: float = 0.1,
                 drop: float = 0.3) -> None:
        super().__init__()
        if channels % num_heads != 0:
            raise ValueError(f'channels ({channels}) must be divisible by '
                             f'num_heads ({num_heads})')
        self.channels = channels
        self.num_heads = num_heads
        self.head_dim = channels // num_heads
        self.attn_drop = attn_drop
        self.q_conv = nn.Conv1d(channels, channels, 1)
        self.k_conv = nn.Conv1d(channels, channels, 1)
        # multi-head attention: its own input and output projections
        self.q_proj = nn.Linear(channels, channels)
        self.k_proj = nn.Linear(channels, channels)
        self.v_proj = nn.Linear(channels, channels)
        self.out_proj = nn.Linear(channels, channels)
        self.drop1 = nn.Dropout(drop)
        self.norm1 = nn.LayerNorm(channels)
        self.ffn = nn.Sequential(
            nn.Linear(channels, ffn_channels), nn.ReLU(inplace=True),
            nn.Dropout(drop), nn.Linear(ffn_channels, channels))
        self.drop2 = nn.Dropout(drop)
        self.norm2 = nn.LayerNorm(channels)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        return x.view(b, n, self.num_heads, self.head_dim).transpose(1, 2)

    def attention(self, x: torch.Tensor,
                  key_valid: torch.Tensor) -> torch.Tensor:
        """Multi-head attention output ``[B, L, D]`` (before the residual).

        Args:
            x: tokens ``[B, L, D]``.
            key_valid: ``[B, L]`` bool, True where a token may be attended to.
        """
        b, n, d = x.shape
        xt = x.transpose(1, 2)                      # [B, D, L]
        q = self.q_conv(xt).transpose(1, 2)
        k = self.k_conv(xt).transpose(1, 2)
        q = self._split_heads(self.q_proj(q))       # [B, H, L, d_h]
        k = self._split_heads(self.k_proj(k))
        v = self._split_heads(self.v_proj(x))
        attn_mask = key_valid[:, None, None, :]     # [B, 1, 1, L]
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask,
            dropout_p=self.attn_drop if self.training else 0.0)
        out = out.transpose(1, 2).reshape(b, n, d)
        return self.out_proj(out)

    def forward(self, x: torch.Tensor,
                key_valid: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x + self.drop1(self.attention(x, key_valid)))
        x = self.norm2(x + self.drop2(self.ffn(x)))
        return x


@MODELS.register_module()
class RABNeck(nn.Module):
    """Stack of RAB blocks over snippet features plus prototype tokens.

    Args:
        in_channels (int): feature width D.
        num_classes (int): number of classes C (prototype tokens).
        num_blocks (int): RAB blocks. Defaults to 2.
        num_heads (int): attention heads. Defaults to 8.
        ffn_channels (int): FFN hidden width. Defaults to 128.
        attn_drop (float): attention dropout. Defaults to 0.1.
        drop (float): residual / FFN dropout. Defaults to 0.3.
        use_prototypes (bool): append the C prototypes as tokens. With False
            no token is appended and ``prototypes`` is ignored.
    """

    def __init__(self, in_channels: int, num_classes: int,
                 num_blocks: int = 2, num_heads: int = 8,
                 ffn_channels: int = 128, attn_drop: float = 0.1,
                 drop: float = 0.3, use_prototypes: bool = True) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.use_prototypes = use_prototypes
        self.blocks = nn.ModuleList([
            RABlock(in_channels, num_heads, ffn_channels, attn_drop, drop)
            for _ in range(num_blocks)
        ])

    def forward(self, x: torch.Tensor, mask: torch.Tensor,
                prototypes: Optional[torch.Tensor] = None) -> torch.Tensor:
        """
        Args:
            x: snippet features ``[B, T, D]``.
            mask: ``[B, T]`` bool, True on valid snippets.
            prototypes: ``[C, D]`` class prototypes (required when
                ``use_prototypes``).

        Returns:
            Tensor ``[B, T, D]``; padded positions are zero.
        """
        b, t, _ = x.shape
        mask = mask.bool()
        x = x.masked_fill(~mask[..., None], 0.0)
        key_valid = mask
        if self.use_prototypes:
            if prototypes is None:
                raise ValueError('RABNeck(use_prototypes=True) needs the '
                                 '[C, D] prototypes')
            if prototypes.shape != (self.num_classes, self.in_channels):
                raise ValueError(
                    f'prototypes must be [{self.num_classes}, '
                    f'{self.in_channels}], got {tuple(prototypes.shape)}')
            protos = prototypes.detach().to(x.dtype)[None].expand(b, -1, -1)
            x = torch.cat([x, protos], dim=1)        # [B, T + C, D]
            key_valid = torch.cat(
                [mask, mask.new_ones(b, self.num_classes)], dim=1)
        for block in self.blocks:
            x = block(x, key_valid)
        out = x[:, :t]
        return out.masked_fill(~mask[..., None], 0.0)
