"""1-D RoI-align on snippet features (stage-2 heads, ``docs/method.md``).

Coordinates are in snippet units: snippet ``i`` spans ``[i, i + 1)`` and its
feature sits at its centre ``i + 0.5``. This reproduces what the reference
implementation does with torchvision's ``roi_align`` (``aligned=False``,
default adaptive sampling) on features zero-padded at both ends and shifted
by half a snippet:

* a RoI ``[start, end]`` is at least 1 long: ``h = max(end - start, 1)``,
  cut into ``num_bins`` bins of ``h / num_bins``;
* bin ``j`` averages ``g`` samples, ``g = ceil(h / num_bins)`` (adaptive,
  so a whole-video RoI reads every snippet) or a fixed ``sampling_ratio``:
  ``x_jk = start + (j + (k + 0.5) / g) * h / num_bins``;
* a sample reads array coordinate ``y = x - 0.5`` by linear interpolation
  between ``floor(y)`` and ``floor(y) + 1``, where every index outside the
  video's *valid* snippets ``[0, T_b)`` reads 0 (the zero padding: values
  ramp to 0 across the video's edges).

The result depends only on each video's valid snippets, so it does not
change with the padding a video shares a batch with. The weighted gathers
run as one ``embedding_bag`` call over variable-size bags (one bag a bin,
``2 g`` weighted rows), so no ``[N, bins, samples, D]`` intermediate is
built; gradients reach the features (not the boxes).
"""
from typing import Optional, Tuple

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
                 sampling_ratio: Optional[int] = None,
                 min_length: float = 1.0) -> torch.Tensor:
    """Bin features of proposals.

    Args:
        features: ``[B, T, D]``.
        mask: ``[B, T]`` bool, True on valid snippets.
        batch_idx: ``[N]`` long video of each proposal.
        start, end: ``[N]`` float, snippet units (already extended).
        num_bins: bins per proposal.
        sampling_ratio: samples averaged per bin; ``None`` (or ``<= 0``):
            adaptive, ``ceil(max(end - start, min_length) / num_bins)``.
        min_length: shortest RoI; shorter ones are lengthened at the end
            (torchvision's rule: 1).

    Returns:
        ``[N, num_bins, D]`` in ``features``' dtype.
    """
    B, T, D = features.shape
    N = batch_idx.numel()
    device = features.device
    if N == 0 or B * T == 0:
        return features.new_zeros(N, num_bins, D)
    batch_idx = batch_idx.to(device).long()
    length = mask.to(device).long().sum(1)[batch_idx]            # [N]
    s = start.to(device).double()
    h = torch.clamp(end.to(device).double() - s, min=float(min_length))
    bin_len = h / num_bins                                       # [N]
    if sampling_ratio is None or int(sampling_ratio) <= 0:
        grid = torch.ceil(bin_len - 1e-9).long().clamp(min=1)     # [N]
    else:
        grid = torch.full_like(batch_idx, int(sampling_ratio))
    # one row per (proposal, bin, sample), proposal-major
    per_prop = grid * num_bins                                   # [N]
    S = int(per_prop.sum().item())
    prop = torch.repeat_interleave(torch.arange(N, device=device), per_prop)
    first = torch.cumsum(per_prop, 0) - per_prop
    r = torch.arange(S, device=device) - first[prop]             # [S]
    g = grid[prop]
    j = torch.div(r, g, rounding_mode='floor')
    k = r - j * g
    y = (s[prop] + (j.double() + (k.double() + 0.5) / g.double())
         * bin_len[prop] - 0.5)                                  # [S]
    lo = y.floor()
    frac = y - lo
    lo = lo.long()
    hi = lo + 1
    t_b = length[prop]
    w_lo = (1.0 - frac) * ((lo >= 0) & (lo < t_b)).double() / g.double()
    w_hi = frac * ((hi >= 0) & (hi < t_b)).double() / g.double()
    base = batch_idx[prop] * T
    idx = torch.stack([base + lo.clamp(0, T - 1),
                       base + hi.clamp(0, T - 1)], -1).reshape(-1)
    wts = torch.stack([w_lo, w_hi], -1).reshape(-1)
    bag_size = 2 * grid.repeat_interleave(num_bins)              # [N * bins]
    offsets = torch.cumsum(bag_size, 0) - bag_size
    flat = features.reshape(B * T, D)
    out = F.embedding_bag(idx, flat, offsets,
                          per_sample_weights=wts.to(flat.dtype), mode='sum')
    return out.reshape(N, num_bins, D)
