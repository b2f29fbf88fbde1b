"""1-D RoI-align on snippet features (SPEC "Stage 2: Heads").

Coordinates are in snippet units: snippet ``i`` spans ``[i, i + 1)`` and its
feature sits at its centre ``i + 0.5`` (torchvision's ``aligned=True``
half-pixel offset). A proposal ``[start, end]`` is cut into ``num_bins``
equal bins of length ``(end - start) / num_bins`` (no minimum size); bin
``j`` averages ``sampling_ratio`` samples at

    x_jk = start + (j + (k + 0.5) / sampling_ratio) * bin_len,  k = 0..sr-1.

A sample at ``x`` reads array coordinate ``y = x - 0.5`` with torchvision's
bilinear rule, here on one axis and on the video's *valid* length ``T_b``
(padding counts as beyond the video):

* ``y < -1`` or ``y > T_b``: the sample is 0 (it still counts in the bin's
  average);
* otherwise ``y`` is clamped to ``>= 0``; with ``lo = floor(y)``: if
  ``lo >= T_b - 1`` the sample is ``f[T_b - 1]``, else
  ``(1 - (y - lo)) * f[lo] + (y - lo) * f[lo + 1]``.

The result depends only on each video's valid snippets, so it does not
change with the padding a video shares a batch with. The weighted gathers
run as one ``embedding_bag`` call (sum of at most ``2 x sampling_ratio``
weighted rows per bin), so no ``[N, bins, samples, D]`` intermediate is
built; gradients reach the features (not the boxes).
"""
from typing import Tuple

import torch
import torch.nn.functional as F


def extend_proposals(start: torch.Tensor, end: torch.Tensor,
                     ratio: float = 0.25) -> Tuple[torch.Tensor, torch.Tensor]:
    """Extend each ``[start, end]`` by ``ratio x (end - start)`` on both sides
    (not clipped: RoI-align reads zero beyond the video)."""
    w = end - start
    return start - ratio * w, end + ratio * w


def roi_align_1d(features: torch.Tensor, mask: torch.Tensor,
                 batch_idx: torch.Tensor, start: torch.Tensor,
                 end: torch.Tensor, num_bins: int = 12,
                 sampling_ratio: int = 2) -> torch.Tensor:
    """Bin features of proposals.

    Args:
        features: ``[B, T, D]``.
        mask: ``[B, T]`` bool, True on valid snippets.
        batch_idx: ``[N]`` long video of each proposal.
        start, end: ``[N]`` float, snippet units.
        num_bins: bins per proposal.
        sampling_ratio: samples averaged per bin.

    Returns:
        ``[N, num_bins, D]`` in ``features``' dtype.
    """
    B, T, D = features.shape
    N = batch_idx.numel()
    device = features.device
    if N == 0 or B * T == 0:
        return features.new_zeros(N, num_bins, D)
    sr = int(sampling_ratio)
    batch_idx = batch_idx.to(device).long()
    length = mask.to(device).long().sum(1)[batch_idx]            # [N]
    s = start.to(device).double()
    e = end.to(device).double()
    bin_len = (e - s) / num_bins                                 # [N]
    grid = (torch.arange(num_bins, device=device, dtype=torch.float64)[:, None]
            + (torch.arange(sr, device=device, dtype=torch.float64)[None, :]
               + 0.5) / sr).reshape(-1)                          # [bins * sr]
    y = s[:, None] + grid[None, :] * bin_len[:, None] - 0.5      # [N, K]
    t_b = length[:, None].double()
    valid = (y >= -1.0) & (y <= t_b) & (length[:, None] > 0)
    y = y.clamp(min=0.0)
    lo = y.floor().long()
    at_end = lo >= length[:, None] - 1
    last = (length[:, None] - 1).clamp(min=0)
    lo = torch.where(at_end, last, lo)
    hi = torch.where(at_end, last, lo + 1)
    frac = torch.where(at_end, torch.zeros_like(y), y - lo.double())
    scale = valid.double() / sr
    w_lo = (1.0 - frac) * scale
    w_hi = frac * scale
    base = (batch_idx * T)[:, None]
    lo = (base + lo.clamp(min=0, max=T - 1))
    hi = (base + hi.clamp(min=0, max=T - 1))
    # bags: one per (proposal, bin) holding its sr samples x {lo, hi}
    idx = torch.stack([lo, hi], -1).reshape(N * num_bins, 2 * sr)
    wts = torch.stack([w_lo, w_hi], -1).reshape(N * num_bins, 2 * sr)
    flat = features.reshape(B * T, D)
    out = F.embedding_bag(idx, flat, per_sample_weights=wts.to(flat.dtype),
                          mode='sum')
    return out.reshape(N, num_bins, D)
