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
    device = point_labels.device
    mask = mask.bool()
    idx = torch.arange(T, device=device).expand(B, T)

    is_pt = (point_labels != 0).any(-1) & mask                  # [B, T]
    has_pt = is_pt.any(-1, keepdim=True)                        # [B, 1]
    prev_pt = _prev_index(is_pt)                                # [B, T]
    next_pt = _next_index(is_pt, T)                             # [B, T]

    # ---------------- background seeds ----------------
    member = mask & ~is_pt & has_pt           # snippets belonging to a region
    key = prev_pt + 1                         # region id in [0, T]
    R = T + 1
    flat = (torch.arange(B, device=device)[:, None] * R + key)  # [B, T]
    flat_m = flat[member]
    idx_m = idx[member]
    b_m = bg[member]
    high_m = b_m >= bg_thresh

    big = T  # sentinel larger than any index
    first_high = torch.full((B * R,), big, dtype=torch.long, device=device)
    first_high.scatter_reduce_(0, flat_m,
                               torch.where(high_m, idx_m,
                                           torch.full_like(idx_m, big)),
                               reduce='amin', include_self=True)
    last_high = torch.full((B * R,), -1, dtype=torch.long, device=device)
    last_high.scatter_reduce_(0, flat_m,
                              torch.where(high_m, idx_m,
                                          torch.full_like(idx_m, -1)),
                              reduce='amax', include_self=True)
    n_high = torch.zeros(B * R, dtype=torch.long, device=device)
    n_high.scatter_add_(0, flat_m, high_m.long())
    max_b = torch.full((B * R,), float('-inf'), dtype=bg.dtype, device=device)
    max_b.scatter_reduce_(0, flat_m, b_m, reduce='amax', include_self=True)
    is_max = b_m == max_b[flat_m]
    arg_b = torch.full((B * R,), big, dtype=torch.long, device=device)
    arg_b.scatter_reduce_(0, flat_m,
                          torch.where(is_max, idx_m,
                                      torch.full_like(idx_m, big)),
                          reduce='amin', include_self=True)

    # back to [B, T] (values for non-members are ignored below)
    fh = first_high[flat]
    lh = last_high[flat]
    nh = n_high[flat]
    am = arg_b[flat]

    before = member & (prev_pt < 0)
    after = member & (prev_pt >= 0) & (next_pt >= T)
    between = member & (prev_pt >= 0) & (next_pt < T)

    seed_before = before & (idx <= torch.where(nh > 0, lh, am))
    seed_after = after & (idx >= torch.where(nh > 0, fh, am))
    seed_between = between & torch.where(nh >= 2, (idx >= fh) & (idx <= lh),
                                         idx == am)
    bg_seeds = seed_before | seed_after | seed_between

    # ---------------- action seeds ----------------
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
    act_labels = torch.where((is_pt | from_left | from_right)[..., None],
                             spread, torch.zeros_like(spread))
    return act_labels, bg_seeds
