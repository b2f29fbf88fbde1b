"""Temporal IoU of 1-D segments: pure functions, no framework.

Continuous convention: a segment ``[s, e]`` has length ``e - s`` (no "+1"
frame-index convention; a departure from the reference, docs/method.md).
"""
import numpy as np
import torch


def pairwise_tiou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """tIoU of every segment of ``a`` ``[..., N, 2]`` with every segment of
    ``b`` ``[..., M, 2]``; returns ``[..., N, M]`` on ``a``'s device.

    A pair whose union is empty (two zero-length segments) has tIoU 0.
    """
    s = torch.maximum(a[..., :, None, 0], b[..., None, :, 0])
    e = torch.minimum(a[..., :, None, 1], b[..., None, :, 1])
    inter = (e - s).clamp(min=0)
    len_a = (a[..., 1] - a[..., 0]).clamp(min=0)
    len_b = (b[..., 1] - b[..., 0]).clamp(min=0)
    union = len_a[..., :, None] + len_b[..., None, :] - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-12),
                       torch.zeros_like(inter))


def pairwise_tiou_np(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """NumPy twin of :func:`pairwise_tiou` for ``[N, 2]`` and ``[M, 2]``."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 2)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 2)
    s = np.maximum(a[:, None, 0], b[None, :, 0])
    e = np.minimum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(e - s, 0, None)
    union = (np.clip(a[:, 1] - a[:, 0], 0, None)[:, None] +
             np.clip(b[:, 1] - b[:, 0], 0, None)[None, :] - inter)
    out = np.zeros_like(inter)
    np.divide(inter, union, out=out, where=union > 0)
    return out


def fit_kind(boxes: torch.Tensor, instances: torch.Tensor,
             eps: float = 1e-6) -> torch.Tensor:
    """How each box of ``boxes [N, 2]`` misses its instance, the same row
    of ``instances [N, 2]``: 0 where it holds the instance (``s <= gs`` and
    ``e >= ge``, within ``eps``; an exact fit counts here), 1 where it lies
    inside it, 2 where it crosses one bound. ``[N]`` long."""
    holds = (boxes[:, 0] <= instances[:, 0] + eps) & \
        (boxes[:, 1] >= instances[:, 1] - eps)
    inside = (boxes[:, 0] >= instances[:, 0] - eps) & \
        (boxes[:, 1] <= instances[:, 1] + eps)
    return torch.where(holds, 0, torch.where(inside, 1, 2)).long()
