"""Reliability-aware attention blocks (RAB) of HR-Pro stage 1.

The C class prototypes are appended to the T snippet tokens of each video as
C extra tokens (the prototype vectors themselves, SPEC's Fix), every token
attends to all valid tokens (padded snippets are excluded through a key
padding mask; prototype tokens are always valid), each block passes all
T + C tokens on, and only the T snippet tokens leave the neck.

Attention is quadratic in the padded length, so a batch of whole videos of
very different lengths wastes most of its work (and, on CPU where attention
dropout forces the unfused path, most of its memory) on padding. The neck
therefore runs its blocks on length groups: the videos of a batch are sorted
by length and cut greedily into groups whose padded attention cost stays
within ``group_cost_ratio`` of their unpadded cost; each group is trimmed to
its own longest video. Every token only ever attends to its own video's
valid tokens, so a video's output does not depend on its batch (in eval
mode), grouped or not. ``group_cost_ratio=None`` runs one padded call.
"""
from typing import List, Optional, Sequence

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
        p = self.attn_drop if self.training else 0.0
        if p > 0 and x.device.type == 'cpu':
            out = cpu_dropout_attention(q, k, v, attn_mask, p)
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


def dropout_keep_mask(shape: Sequence[int], p: float,
                      device: torch.device) -> torch.Tensor:
    """Bool mask of ``shape``, each element True with probability ``1 - p``
    (exact to 2**-17), from the global torch generator.

    Why not ``F.dropout``: its CPU Bernoulli sampling draws one random number
    per element and took about twice as long as the rest of a dropout
    attention of a long video (T = 2,000, 8 heads). Here every element takes
    16 bits of a 64-bit draw instead (four elements per draw).
    """
    numel = 1
    for s in shape:
        numel *= int(s)
    bits = torch.empty((numel + 3) // 4, dtype=torch.int64,
                       device=device).random_(-2**63, None)
    threshold = -32768 + int(round(p * 65536))
    return (bits.view(torch.int16)[:numel] >= threshold).view(*shape)


def cpu_dropout_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                          attn_mask: torch.Tensor, p: float,
                          block: int = 256) -> torch.Tensor:
    """``scaled_dot_product_attention(q, k, v, attn_mask, dropout_p=p)`` for
    CPU training.

    With dropout, CPU SDPA has no fused kernel and falls back to its math
    path: it samples the ``[B, H, L, L]`` dropout mask one Bernoulli draw at
    a time and keeps several ``L x L`` float tensors per video and head for
    the backward pass, so a long video's step is bound by memory traffic.
    This is the same computation (softmax over the allowed keys, weights
    dropped with probability ``p``, the kept ones scaled by ``1 / (1 - p)``)
    with the mask from :func:`dropout_keep_mask`, run on blocks of ``block``
    query rows so that each block's weights stay in cache; the backward pass
    recomputes them from the row log-sum-exp (as fused attention kernels do)
    and only the boolean mask is kept.

    Args:
        q, k, v: ``[B, H, L, d]``.
        attn_mask: bool, broadcastable to ``[B, 1, 1, L]``: keys allowed.
        p: dropout probability, in ``[0, 1)``.
        block: query rows per block.
    """
    return _BlockedDropoutAttention.apply(q, k, v, attn_mask, float(p),
                                          int(block))


class _BlockedDropoutAttention(torch.autograd.Function):
    """Forward and backward of :func:`cpu_dropout_attention`, written out
    over blocks of query rows (the loop runs ``ceil(L / block)`` times)."""

    @staticmethod
    def forward(ctx, q, k, v, attn_mask, p, block):
        B, H, L, d = q.shape
        scale = d ** -0.5
        inv = 1.0 / (1.0 - p)
        bias = torch.zeros(attn_mask.shape, dtype=q.dtype, device=q.device)
        bias.masked_fill_(~attn_mask, float('-inf'))
        keep = dropout_keep_mask((B, H, L, L), p, q.device)
        out = torch.empty_like(q)
        lse = torch.empty(B, H, L, 1, dtype=q.dtype, device=q.device)
        qs = q * scale
        kt = k.transpose(-1, -2)
        for i in range(0, L, block):
            j = min(i + block, L)
            w = torch.matmul(qs[:, :, i:j], kt).add_(bias)
            top = w.amax(-1, keepdim=True)
            w.sub_(top).exp_()
            total = w.sum(-1, keepdim=True)
            w.div_(total)
            lse[:, :, i:j] = top + total.log()
            w.mul_(keep[:, :, i:j])
            out[:, :, i:j] = torch.matmul(w, v).mul_(inv)
        ctx.save_for_backward(q, k, v, bias, keep, lse, out)
        ctx.p, ctx.block = p, block
        return out

    @staticmethod
    def backward(ctx, grad_out):
        q, k, v, bias, keep, lse, out = ctx.saved_tensors
        p, block = ctx.p, ctx.block
        L, d = q.shape[-2:]
        scale = d ** -0.5
        inv = 1.0 / (1.0 - p)
        grad_out = grad_out.contiguous()
        dq = torch.empty_like(q)
        dk = torch.zeros_like(k)
        dv = torch.zeros_like(v)
        qs = q * scale
        kt = k.transpose(-1, -2)
        vt = v.transpose(-1, -2)
        # sum_j dL/dw_j * w_j of every row = <grad_out, out>
        delta = (grad_out * out).sum(-1, keepdim=True)
        for i in range(0, L, block):
            j = min(i + block, L)
            probs = torch.matmul(qs[:, :, i:j], kt).add_(bias)
            probs.sub_(lse[:, :, i:j]).exp_()            # softmax weights
            kept = probs * keep[:, :, i:j]
            go = grad_out[:, :, i:j]
            dv += torch.matmul(kept.transpose(-1, -2), go).mul_(inv)
            g = torch.matmul(go, vt).mul_(keep[:, :, i:j]).mul_(inv)
            ds = g.sub_(delta[:, :, i:j]).mul_(probs)     # softmax backward
            dq[:, :, i:j] = torch.matmul(ds, k).mul_(scale)
            dk += torch.matmul(ds.transpose(-1, -2), qs[:, :, i:j])
        return dq, dk, dv, None, None, None


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
            Defaults to 1.25.
    """

    def __init__(self, in_channels: int, num_classes: int,
                 num_blocks: int = 2, num_heads: int = 8,
                 ffn_channels: int = 128, attn_drop: float = 0.1,
                 drop: float = 0.3, use_prototypes: bool = True,
                 group_cost_ratio: Optional[float] = 1.25) -> None:
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


def length_groups(lengths: Sequence[int],
                  cost_ratio: float) -> List[tuple]:
    """Cut a batch into groups of similar length.

    Videos are taken longest first; a group grows while
    ``size * longest**2 <= cost_ratio * sum(length**2)`` holds for it.

    Returns:
        list of ``(indices, longest)``: batch indices of each group (longest
        video first) and the group's padded length.
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    groups = []
    idx: List[int] = []
    longest = 0
    sq = 0
    for i in order:
        n = max(int(lengths[i]), 1)
        if idx and (len(idx) + 1) * longest ** 2 > cost_ratio * (sq + n * n):
            groups.append((idx, longest))
            idx, sq = [], 0
        if not idx:
            longest = n
        idx.append(i)
        sq += n * n
    if idx:
        groups.append((idx, longest))
    return groups
