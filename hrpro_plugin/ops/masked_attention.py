"""Attention with a key mask and a given dropout mask, over blocks of query
rows, with a recomputing backward pass.

``blocked_dropout_attention(q, k, v, key_mask, keep, p)`` is

    softmax(q k^T / sqrt(d) + bias) * keep / (1 - p) @ v

where ``bias`` is 0 on the allowed keys and -inf on the others, i.e.
``scaled_dot_product_attention(q, k, v, attn_mask=key_mask, dropout_p=p)``
with the dropout mask ``keep`` chosen by the caller (so the op draws no
random numbers). A query whose keys are all masked gets a zero output and
zero gradients, as ``scaled_dot_product_attention`` gives.

Why it exists: with dropout, CPU SDPA has no fused kernel and falls back to
its math path, which samples the ``[B, H, L, L]`` dropout mask one Bernoulli
draw at a time and keeps several ``L x L`` float tensors per video and head
for the backward pass, so a long video's step is bound by memory traffic.
Here the weights of ``block`` query rows at a time stay in cache, and the
backward pass recomputes them (the same fused softmax of the same scores)
from q, k, v: only ``keep`` (1 byte per weight) is kept.
"""
from typing import Optional

import torch


def blocked_dropout_attention(q: torch.Tensor, k: torch.Tensor,
                              v: torch.Tensor, key_mask: torch.Tensor,
                              keep: torch.Tensor, p: float,
                              block: Optional[int] = None) -> torch.Tensor:
    """Masked, dropped-out attention (see the module docstring).

    Args:
        q, k, v: ``[B, H, L, d]``.
        key_mask: bool, broadcastable to ``[B, 1, 1, L]``: True on the keys
            a query may attend to.
        keep: bool ``[B, H, L, L]``: True on the attention weights that
            survive dropout (e.g. ``dropout_keep_mask((B, H, L, L), p)``).
        p: the dropout probability, in ``[0, 1)``: kept weights are scaled
            by ``1 / (1 - p)``.
        block: query rows per block; None: about 2**20 weights a block.

    Returns:
        ``[B, H, L, d]``.
    """
    B, H, L, _ = q.shape
    if keep.dtype != torch.bool or tuple(keep.shape) != (B, H, L, L):
        raise ValueError(f'keep must be a bool [{B}, {H}, {L}, {L}] mask, '
                         f'got {keep.dtype} {tuple(keep.shape)}')
    if not 0 <= p < 1:
        raise ValueError(f'p must be in [0, 1), got {p}')
    if block is None:
        # about 2**20 weights (4 MiB) a block: measured fastest on a 2-core
        # CPU for THUMOS14 batches (2**18 to 2**22 weights tried)
        rows = (1 << 20) // max(1, B * H * L)
        block = min(max(8, rows), L)
    return BlockedDropoutAttention.apply(q, k, v, key_mask, keep, float(p),
                                         max(1, int(block)))


class BlockedDropoutAttention(torch.autograd.Function):
    """Forward and backward of :func:`blocked_dropout_attention`, written
    out over blocks of query rows (the loop runs ``ceil(L / block)`` times).

    Heads are folded into the batch (``[B * H, L, d]``) and every block
    works in reused ``[B * H, block, L]`` buffers (two in the forward pass,
    three in the backward pass): fresh tensors of that size cost a page
    fault per 4 KiB on first touch, which took longer than the arithmetic.
    The softmax is PyTorch's fused one (the backward pass recomputes it
    exactly), and ``1 / (1 - p)`` is applied to the small ``[.., d]``
    tensors rather than to the weights.
    """

    @staticmethod
    def forward(ctx, q, k, v, key_mask, keep, p, block):
        B, H, L, d = q.shape
        n = B * H
        q3 = (q * d ** -0.5).reshape(n, L, d)
        kt3 = k.reshape(n, L, d).transpose(1, 2).contiguous()
        v3 = v.reshape(n, L, d)
        bias, live = key_bias(key_mask, B, H, L, q)
        keep = keep.reshape(n, L, L).view(torch.uint8)
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
        out.mul_(1.0 / (1.0 - p))
        if live is not None:
            out.mul_(live)
        ctx.save_for_backward(q3, kt3, v3, bias, live, keep, out)
        ctx.p, ctx.block, ctx.shape = p, block, (B, H, L, d)
        return out.view(B, H, L, d)

    @staticmethod
    def backward(ctx, grad_out):
        """The softmax backward ``ds = w * (dL/dw - <dL/dw, w>)`` per block
        of rows, with the weights ``w`` recomputed; one loop body (it
        shares the block buffers), hence its length."""
        q3, kt3, v3, bias, live, keep, out = ctx.saved_tensors
        p, block = ctx.p, ctx.block
        B, H, L, d = ctx.shape
        n = B * H
        grad_out = grad_out.reshape(n, L, d)
        # sum_j dL/dw_j * w_j of every row = <grad_out, out>
        delta = (grad_out * out).sum(-1, keepdim=True)
        go = grad_out * (1.0 / (1.0 - p))
        if live is not None:   # no gradient through fully masked rows
            go.mul_(live)
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
        dq.mul_(d ** -0.5)
        shape = (B, H, L, d)
        return (dq.view(shape), dk.view(shape), dv.view(shape), None, None,
                None, None)


def key_bias(key_mask: torch.Tensor, B: int, H: int, L: int,
             like: torch.Tensor):
    """The additive key bias and the rows that have a key, from a boolean
    key mask broadcastable to ``[B, 1, 1, L]``.

    Returns:
        ``(bias, live)``: ``bias`` ``[B * H, 1, L]`` (0 on allowed keys,
        -inf on the others; None when every key is allowed); ``live``
        ``[B * H, 1, 1]`` (1 where a video has an allowed key, 0 where it
        has none; None when every video has one). A video without keys
        gets a zero bias (a finite softmax) and ``live`` zeroes its output
        and gradients.
    """
    allowed = key_mask.expand(B, 1, 1, L)
    if bool(allowed.all()):
        return None, None
    bias = torch.zeros(B, 1, 1, L, dtype=like.dtype, device=like.device)
    bias.masked_fill_(~allowed, float('-inf'))
    has_key = allowed.any(-1, keepdim=True)              # [B, 1, 1, 1]
    live = None
    if not bool(has_key.all()):
        bias.masked_fill_(~has_key, 0.0)
        live = has_key.to(like.dtype).expand(B, H, 1, 1).reshape(B * H, 1, 1)
    return bias.expand(B, H, 1, L).reshape(B * H, 1, L), live
