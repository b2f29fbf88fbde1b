"""Reliability-aware attention blocks (RAB) of HR-Pro stage 1.

The C class prototypes are appended to the T snippet tokens of each video as
C extra tokens (the prototype vectors themselves, a departure from the
reference listed in docs/method.md), every token attends to all valid
tokens (padded snippets are excluded through a key padding mask; prototype
tokens are always valid), each block passes all T + C tokens on, and only
the T snippet tokens leave the neck.

Attention is quadratic in the padded length, so a batch of whole videos of
very different lengths wastes most of its work (and, on CPU where attention
dropout forces the unfused path, most of its memory) on padding. The neck
therefore runs its blocks on length groups: the videos of a batch are sorted
by length and cut greedily into groups whose padded attention cost stays
within ``group_cost_ratio`` of their unpadded cost; each group is trimmed to
its own longest video. Every token only ever attends to its own video's
valid tokens, so a video's output does not depend on its batch (in eval
mode), grouped or not. ``group_cost_ratio=None`` runs one padded call.
The grouping is :func:`hrpro_plugin.ops.length_groups`; CPU training with
attention dropout runs :func:`hrpro_plugin.ops.blocked_dropout_attention`.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import nn

from ...ops.length_groups import length_groups
from ...ops.masked_attention import blocked_dropout_attention
from ..dropout import FastDropout, dropout_keep_mask


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
        self.drop1 = FastDropout(drop)
        self.norm1 = nn.LayerNorm(channels)
        self.ffn = nn.Sequential(
            nn.Linear(channels, ffn_channels), nn.ReLU(inplace=True),
            FastDropout(drop), nn.Linear(ffn_channels, channels))
        self.drop2 = FastDropout(drop)
        self.norm2 = nn.LayerNorm(channels)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        return x.view(b, n, self.num_heads, self.head_dim).transpose(1, 2)

    def _qkv_weights(self):
        """Weight ``[3D, D]`` and bias ``[3D]`` of one linear map giving
        ``q_proj(q_conv(x))``, ``k_proj(k_conv(x))`` and ``v_proj(x)``.

        The 1x1 convolutions and the projections after them are composed
        (``W_p W_c x + W_p b_c + b_p``): the same function of the same
        parameters, but one matrix product over the tokens instead of five,
        and no transposes for the convolutions.
        """
        wq = self.q_proj.weight @ self.q_conv.weight[..., 0]
        wk = self.k_proj.weight @ self.k_conv.weight[..., 0]
        bq = torch.addmv(self.q_proj.bias, self.q_proj.weight,
                         self.q_conv.bias)
        bk = torch.addmv(self.k_proj.bias, self.k_proj.weight,
                         self.k_conv.bias)
        weight = torch.cat([wq, wk, self.v_proj.weight])
        bias = torch.cat([bq, bk, self.v_proj.bias])
        return weight, bias

    def attention(self, x: torch.Tensor,
                  key_valid: torch.Tensor) -> torch.Tensor:
        """Multi-head attention output ``[B, L, D]`` (before the residual).

        Args:
            x: tokens ``[B, L, D]``.
            key_valid: ``[B, L]`` bool, True where a token may be attended to.
        """
        b, n, d = x.shape
        q, k, v = F.linear(x, *self._qkv_weights()).chunk(3, dim=-1)
        q = self._split_heads(q)                    # [B, H, L, d_h]
        k = self._split_heads(k)
        v = self._split_heads(v)
        attn_mask = key_valid[:, None, None, :]     # [B, 1, 1, L]
        p = self.attn_drop if self.training else 0.0
        if p > 0 and x.device.type == 'cpu':
            # CPU SDPA has no fused kernel with dropout (ops/masked_attention)
            keep = dropout_keep_mask((b, self.num_heads, n, n), p, x.device)
            out = blocked_dropout_attention(q, k, v, attn_mask, keep, p)
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask,
                                                 dropout_p=p)
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
        group_cost_ratio (float | None): split a batch into length groups
            whose padded attention cost (group size x longest length^2) is
            at most this multiple of the sum of their own lengths^2 (see the
            module docstring). ``None`` runs the whole padded batch at once
            (fewer kernel launches; what suits batches of similar lengths).
            Defaults to 1.1 (measured fastest of 1.0-1.5 on
            THUMOS14 batches, 2-core CPU).
    """

    def __init__(self, in_channels: int, num_classes: int,
                 num_blocks: int = 2, num_heads: int = 8,
                 ffn_channels: int = 128, attn_drop: float = 0.1,
                 drop: float = 0.3, use_prototypes: bool = True,
                 group_cost_ratio: Optional[float] = 1.1) -> None:
        super().__init__()
        if group_cost_ratio is not None and group_cost_ratio < 1:
            raise ValueError('group_cost_ratio must be >= 1 or None, got '
                             f'{group_cost_ratio}')
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.use_prototypes = use_prototypes
        self.group_cost_ratio = group_cost_ratio
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
        if self.use_prototypes:
            if prototypes is None:
                raise ValueError('RABNeck(use_prototypes=True) needs the '
                                 '[C, D] prototypes')
            if prototypes.shape != (self.num_classes, self.in_channels):
                raise ValueError(
                    f'prototypes must be [{self.num_classes}, '
                    f'{self.in_channels}], got {tuple(prototypes.shape)}')
            prototypes = prototypes.detach().to(x.dtype)
        if self.group_cost_ratio is None or b == 1:
            return self._run(x, mask, prototypes)
        # one host sync: the group layout needs the lengths on the host
        lengths = mask.sum(1).tolist()
        groups = length_groups(lengths, self.group_cost_ratio)
        if len(groups) == 1 and max(lengths) == t:
            return self._run(x, mask, prototypes)
        out = x.new_zeros(x.shape)
        for idx, longest in groups:
            index = torch.as_tensor(idx, device=x.device)
            res = self._run(x[index, :longest], mask[index, :longest],
                            prototypes)
            out[index, :longest] = res.to(out.dtype)
        return out

    def _run(self, x: torch.Tensor, mask: torch.Tensor,
             prototypes: Optional[torch.Tensor]) -> torch.Tensor:
        """All blocks on one padded batch ``[B, T, D]`` (the whole neck
        without grouping)."""
        b, t, _ = x.shape
        key_valid = mask
        if self.use_prototypes:
            protos = prototypes[None].expand(b, -1, -1)
            x = torch.cat([x, protos], dim=1)        # [B, T + C, D]
            key_valid = torch.cat(
                [mask, mask.new_ones(b, self.num_classes)], dim=1)
        for block in self.blocks:
            x = block(x, key_valid)
        out = x[:, :t]
        return out.masked_fill(~mask[..., None], 0.0)

