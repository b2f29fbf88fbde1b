"""Reliability-aware attention blocks (RAB) of HR-Pro stage 1.

The C class prototypes are appended to the T snippet tokens of each video as
C extra tokens (the prototype vectors themselves, a departure from the reference listed in docs/method.md), every token
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


def cpu_dropout_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                          attn_mask: torch.Tensor, p: float,
                          block: Optional[int] = None) -> torch.Tensor:
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
    recomputes the weights (the same fused softmax of the same scores) and
    only the mask (1 byte per weight) is kept.

    Args:
        q, k, v: ``[B, H, L, d]``.
        attn_mask: bool, broadcastable to ``[B, 1, 1, L]``: keys allowed.
        p: dropout probability, in ``[0, 1)``.
        block: query rows per block; None: about 2**20 weights a block.
    """
    if block is None:
        # about 2**20 weights (4 MiB) a block: measured fastest on a 2-core
        # CPU for THUMOS14 batches (2**18 to 2**22 weights tried)
        rows = (1 << 20) // max(1, q.shape[0] * q.shape[1] * q.shape[2])
        block = min(max(8, rows), q.shape[2])
    return _BlockedDropoutAttention.apply(q, k, v, attn_mask, float(p),
                                          int(block))


class _BlockedDropoutAttention(torch.autograd.Function):
    """Forward and backward of :func:`cpu_dropout_attention`, written out
    over blocks of query rows (the loop runs ``ceil(L / block)`` times).

    Heads are folded into the batch (``[B * H, L, d]``) and every block
    works in reused ``[B * H, block, L]`` buffers (two in the forward pass,
    three in the backward pass): fresh tensors of that
    size cost a page fault per 4 KiB on first touch, which took longer than
    the arithmetic. The softmax is PyTorch's fused one (the backward pass
    recomputes it exactly), and ``1 / (1 - p)`` is applied to the small
    ``[.., d]`` tensors rather than to the weights.
    """

    @staticmethod
    def forward(ctx, q, k, v, attn_mask, p, block):
        B, H, L, d = q.shape
        n = B * H
        inv = 1.0 / (1.0 - p)
        q3 = (q * d ** -0.5).reshape(n, L, d)
        kt3 = k.reshape(n, L, d).transpose(1, 2).contiguous()
        v3 = v.reshape(n, L, d)
        bias = _key_bias(attn_mask, B, H, L, q)
        keep = dropout_keep_mask((n, L, L), p, q.device).view(torch.uint8)
        rows = min(block, L)
        w_buf = q.new_empty(n * rows * L)
        p_buf = q.new_empty(n * rows * L)
        out = q.new_empty(n, L, d)
        for i in range(0, L, block):
            j = min(i + block, L)
            w = w_buf[:n * (j - i) * L].view(n, j - i, L)
            probs = p_buf[:n * (j - i) * L].view(n, j - i, L)
            torch.bmm(q3[:, i:j], kt3, out=w)
            if bias is not None:
                w.add_(bias)
            torch.softmax(w, -1, out=probs)
            probs.mul_(w.copy_(keep[:, i:j]))
            out[:, i:j] = torch.bmm(probs, v3)
        out.mul_(inv)
        ctx.save_for_backward(q3, kt3, v3, bias, keep, out)
        ctx.p, ctx.block, ctx.shape = p, block, (B, H, L, d)
        return out.view(B, H, L, d)

    @staticmethod
    def backward(ctx, grad_out):
        q3, kt3, v3, bias, keep, out = ctx.saved_tensors
        p, block = ctx.p, ctx.block
        B, H, L, d = ctx.shape
        n = B * H
        scale = d ** -0.5
        grad_out = grad_out.reshape(n, L, d)
        # sum_j dL/dw_j * w_j of every row = <grad_out, out>
        delta = (grad_out * out).sum(-1, keepdim=True)
        go = grad_out * (1.0 / (1.0 - p))
        k3 = kt3.transpose(1, 2)
        vt3 = v3.transpose(1, 2).contiguous()
        dq = q3.new_empty(n, L, d)
        dk = q3.new_zeros(n, L, d)
        dv = q3.new_zeros(n, L, d)
        rows = min(block, L)
        s_buf = q3.new_empty(n * rows * L)
        p_buf = q3.new_empty(n * rows * L)
        m_buf = q3.new_empty(n * rows * L)
        for i in range(0, L, block):
            j = min(i + block, L)
            size = n * (j - i) * L
            s = s_buf[:size].view(n, j - i, L)
            probs = p_buf[:size].view(n, j - i, L)
            mask = m_buf[:size].view(n, j - i, L).copy_(keep[:, i:j])
            torch.bmm(q3[:, i:j], kt3, out=s)
            if bias is not None:
                s.add_(bias)
            torch.softmax(s, -1, out=probs)           # the forward weights
            kept = torch.mul(probs, mask, out=s)
            dv.baddbmm_(kept.transpose(1, 2), go[:, i:j])
            ds = torch.bmm(go[:, i:j], vt3, out=s)      # dL/d(kept weights)
            ds.mul_(mask).sub_(delta[:, i:j]).mul_(probs)  # softmax backward
            dq[:, i:j] = torch.bmm(ds, k3)
            dk.baddbmm_(ds.transpose(1, 2), q3[:, i:j])
        dq.mul_(scale)
        shape = (B, H, L, d)
        return dq.view(shape), dk.view(shape), dv.view(shape), None, None, \
            None


def _key_bias(attn_mask, B, H, L, like):
    """``[B * H, 1, L]`` additive bias (0 or -inf) from a boolean key mask
    broadcastable to ``[B, 1, 1, L]``, or None when every key is allowed."""
    allowed = attn_mask.expand(B, 1, 1, L)
    if bool(allowed.all()):
        return None
    bias = torch.zeros(B, 1, 1, L, dtype=like.dtype, device=like.device)
    bias.masked_fill_(~allowed, float('-inf'))
    return bias.expand(B, H, 1, L).reshape(B * H, 1, L)


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
