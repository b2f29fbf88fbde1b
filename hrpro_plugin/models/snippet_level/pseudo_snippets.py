"""Pseudo action / background snippets from point labels (docs/method.md, "Pseudo
snippets", the paper's Algorithm 1 as the reference runs it).

Pure torch, batched over videos with a validity mask; no loop over snippets.
"""
from typing import Tuple

import torch


def _next_index(flag: torch.Tensor, sentinel: int) -> torch.Tensor:
    """For each position t, the smallest index >= t where ``flag`` is True
    (``sentinel`` where none)."""
    T = flag.shape[-1]
    idx = torch.arange(T, device=flag.device).expand_as(flag)
    val = torch.where(flag, idx, torch.full_like(idx, sentinel))
    return torch.flip(torch.cummin(torch.flip(val, [-1]), dim=-1).values, [-1])


def _prev_index(flag: torch.Tensor) -> torch.Tensor:
    """For each position t, the largest index <= t where ``flag`` is True
    (-1 where none)."""
    T = flag.shape[-1]
    idx = torch.arange(T, device=flag.device).expand_as(flag)
    val = torch.where(flag, idx, torch.full_like(idx, -1))
    return torch.cummax(val, dim=-1).values


def mine_pseudo_snippets(point_labels: torch.Tensor,
                         bg: torch.Tensor,
                         mask: torch.Tensor,
                         bg_thresh: float = 0.95,
                         act_thresh: float = 0.1
                         ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Mine pseudo action and background snippets of a padded batch.

    Args:
        point_labels: ``[B, T, C]`` float multi-hot point labels; a *point
            snippet* is a valid snippet whose row is nonzero (several classes
            may share one).
        bg: ``[B, T]`` background probability ``b``.
        mask: ``[B, T]`` bool, True on valid snippets (a prefix of each row,
            of length ``T_b``).
        bg_thresh: background threshold on ``b`` (0.95).
        act_thresh: action threshold on ``b`` (0.1).

    Returns:
        ``act_labels`` ``[B, T, C]`` float multi-hot (0/1) and ``bg_seeds``
        ``[B, T]`` bool. Everything outside the valid length is 0 / False;
        a video without points gets no seeds at all.

    Rules (all inside ``[0, T_b)``; "high" means ``b >= bg_thresh``):

    * Background seeds. The non-point snippets split into regions: strictly
      before the first point snippet, strictly between two adjacent point
      snippets, strictly after the last one (empty regions give nothing).

      - before the first point: every snippet from 0 up to and including the
        last high snippet of the region; if the region has none, from 0 up to
        and including the argmax of ``b`` in the region;
      - after the last point: every snippet from the first high snippet of
        the region (else from the argmax of ``b`` there) to ``T_b - 1``;
      - between two adjacent points: the span from the first to the last high
        snippet of the region if it holds at least two high snippets, else
        only the argmax of ``b`` in the region.

      Ties in an argmax go to the first index.
    * Action seeds. Every point snippet gets its own multi-hot label
      (``point_labels != 0``). From each point snippet the label spreads to
      the left (p-1, p-2, ...) and to the right while the snippet has
      ``b <= act_thresh`` and is not a background seed; a spread stops at the
      first snippet failing that and never enters (hence never passes)
      another point snippet. Where the right spread of a point and the left
      spread of the next point reach the same snippet, the right-hand point's
      label wins.

    Implementation: the region of a non-point snippet is keyed by the index
    of the previous point snippet (cummax trick); per-region first/last high
    index, high count and argmax come from ``scatter_reduce``; a snippet is
    reached by a spread when the nearest "stop" snippet on that side is the
    point snippet itself.
    """
    B, T, C = point_labels.shape
    mask = mask.bool()
    idx = torch.arange(T, device=point_labels.device).expand(B, T)
    is_pt = (point_labels != 0).any(-1) & mask                  # [B, T]
    prev_pt = _prev_index(is_pt)                                # [B, T]
    next_pt = _next_index(is_pt, T)                             # [B, T]
    bg_seeds = _background_seeds(bg, mask, is_pt, prev_pt, next_pt, idx,
                                 bg_thresh)
    act_labels = _action_seeds(point_labels, bg, mask, is_pt, prev_pt,
                               next_pt, idx, bg_seeds, act_thresh)
    return act_labels, bg_seeds


def _region_stats(bg: torch.Tensor, member: torch.Tensor, flat: torch.Tensor,
                  idx: torch.Tensor, n_regions: int, bg_thresh: float):
    """Per region (flat id ``flat`` of each member snippet): first and last
    high index, number of high snippets, first argmax of ``b``; read back
    at every snippet as ``[B, T]`` tensors (ignored for non-members)."""
    device = bg.device
    flat_m, idx_m, b_m = flat[member], idx[member], bg[member]
    high_m = b_m >= bg_thresh
    big = idx.shape[1]  # sentinel larger than any index

    def reduce(init, values, how):
        out = torch.full((n_regions,), init, dtype=values.dtype, device=device)
        out.scatter_reduce_(0, flat_m, values, reduce=how, include_self=True)
        return out

    first_high = reduce(big, torch.where(high_m, idx_m,
                                         torch.full_like(idx_m, big)), 'amin')
    last_high = reduce(-1, torch.where(high_m, idx_m,
                                       torch.full_like(idx_m, -1)), 'amax')
    n_high = torch.zeros(n_regions, dtype=torch.long, device=device)
    n_high.scatter_add_(0, flat_m, high_m.long())
    max_b = reduce(float('-inf'), b_m, 'amax')
    is_max = b_m == max_b[flat_m]
    arg_b = reduce(big, torch.where(is_max, idx_m,
                                    torch.full_like(idx_m, big)), 'amin')
    return first_high[flat], last_high[flat], n_high[flat], arg_b[flat]


def _background_seeds(bg, mask, is_pt, prev_pt, next_pt, idx, bg_thresh):
    """``[B, T]`` bool background seeds (the rules of
    :func:`mine_pseudo_snippets`); regions are keyed by the index of the
    previous point snippet."""
    B, T = mask.shape
    member = mask & ~is_pt & is_pt.any(-1, keepdim=True)
    R = T + 1                                 # region id prev_pt + 1 in [0, T]
    flat = torch.arange(B, device=bg.device)[:, None] * R + prev_pt + 1
    fh, lh, nh, am = _region_stats(bg, member, flat, idx, B * R, bg_thresh)

    before = member & (prev_pt < 0)
    after = member & (prev_pt >= 0) & (next_pt >= T)
    between = member & (prev_pt >= 0) & (next_pt < T)
    seed_before = before & (idx <= torch.where(nh > 0, lh, am))
    seed_after = after & (idx >= torch.where(nh > 0, fh, am))
    seed_between = between & torch.where(nh >= 2, (idx >= fh) & (idx <= lh),
                                         idx == am)
    return seed_before | seed_after | seed_between


def _action_seeds(point_labels, bg, mask, is_pt, prev_pt, next_pt, idx,
                  bg_seeds, act_thresh):
    """``[B, T, C]`` multi-hot action seeds: each point's label spread left
    and right until the first stop (the rules of
    :func:`mine_pseudo_snippets`)."""
    B, T, C = point_labels.shape
    ok = mask & ~is_pt & ~bg_seeds & (bg <= act_thresh)
    stop = ~ok                                  # points, padding, failures
    last_stop = _prev_index(stop)               # nearest stop at or before t
    next_stop = _next_index(stop, T)            # nearest stop at or after t
    from_left = ok & (prev_pt >= 0) & (last_stop == prev_pt)
    from_right = ok & (next_pt < T) & (next_stop == next_pt)

    out_dtype = (point_labels.dtype if point_labels.is_floating_point()
                 else torch.float32)
    pt_bin = ((point_labels != 0) & is_pt[..., None]).to(out_dtype)
    src = torch.where(from_right, next_pt,
                      torch.where(from_left, prev_pt, idx))   # [B, T]
    src = src.clamp(0, T - 1)
    spread = torch.gather(pt_bin, 1, src[..., None].expand(B, T, C))
    return torch.where((is_pt | from_left | from_right)[..., None],
                       spread, torch.zeros_like(spread))
