"""Stage-2 proposal mining (``docs/method.md``, "Stage 2"): positive (PP),
reliable (RP) and negative (NP) proposals, as the reference mines them.

Pure torch functions on flat tensors with a batch index; every position is
in snippet units (snippet ``i`` spans ``[i, i + 1)``; a point's position is
its exact time divided by the snippet length).

* PP: every candidate (before NMS) with its class and OIC score.
* RP: for each point, the highest-OIC (``> 0``) PP of the point's class that
  contains the point (``start <= position <= end``) and lies strictly
  between the previous and the next point of the video in time, of any
  class (``start > previous`` and ``end < next``; a missing neighbour sets
  no bound; a point that shares its exact time with another can never meet
  this). If no PP meets the neighbour condition it is dropped; if none is
  left, the point has no RP. Ties in OIC go to the lowest PP index.
* NP: inside maximal runs of background seeds, ``int(0.5 x #PP of the
  video)`` random sub-intervals per video, distributed as the reference's
  kept draws (see :func:`sample_negative_proposals`), without its rejection
  loop, so the sampler terminates on every input. Random numbers come from
  an explicit :class:`torch.Generator` (drawn on the generator's device,
  then moved), so mining twice with the same seed and the same video order
  gives the same result.
"""
from typing import Dict, Optional, Sequence, Union

import torch

# element budget of one [points, group] block in select_reliable_proposals
_BLOCK_ELEMENTS = 1 << 24


def _neighbour_positions(positions: torch.Tensor, point_batch: torch.Tensor):
    """Positions of the previous / next point of the same video in time
    order, any class (``-inf`` / ``+inf`` where there is none). A point
    that shares its exact time with another has that time as a neighbour,
    so no proposal can lie strictly between its neighbours (as in the
    reference, which lists the sorted times of all points)."""
    P = positions.numel()
    device = positions.device
    inf = torch.tensor(float('inf'), dtype=torch.float64, device=device)
    if P == 0:
        empty = torch.zeros(0, dtype=torch.float64, device=device)
        return empty, empty
    pos = positions.double()
    batch = point_batch.long()
    order = torch.argsort(pos, stable=True)
    order = order[torch.argsort(batch[order], stable=True)]      # video, time
    sp, sb = pos[order], batch[order]
    idx = torch.arange(P, device=device)
    prev_ok = (idx > 0) & (sb == sb[(idx - 1).clamp(min=0)])
    next_ok = (idx < P - 1) & (sb == sb[(idx + 1).clamp(max=P - 1)])
    prev_s = torch.where(prev_ok, sp[(idx - 1).clamp(min=0)], -inf)
    next_s = torch.where(next_ok, sp[(idx + 1).clamp(max=P - 1)], inf)
    prev_p = torch.empty_like(prev_s)
    next_p = torch.empty_like(next_s)
    prev_p[order] = prev_s
    next_p[order] = next_s
    return prev_p, next_p


def select_reliable_proposals(pp_start: torch.Tensor, pp_end: torch.Tensor,
                              pp_label: torch.Tensor, pp_score: torch.Tensor,
                              pp_batch: torch.Tensor,
                              point_positions: torch.Tensor,
                              point_labels: torch.Tensor,
                              point_batch: torch.Tensor) -> torch.Tensor:
    """Index of each point's reliable proposal (RP) among the PP.

    Args:
        pp_start, pp_end: ``[N]`` float, snippet units.
        pp_label: ``[N]`` long class; pp_score: ``[N]`` OIC;
        pp_batch: ``[N]`` long video index.
        point_positions: ``[P]`` float exact point times in snippet units
            (seconds / snippet length); point_labels, point_batch: ``[P]``.

    Returns:
        ``[P]`` long: index into the PP, ``-1`` where the point has no RP.
        See the module docstring for the rule.

    Vectorised: PP are sorted by (video, class); each point reads its
    (video, class) group as a padded ``[P, G]`` block (``G`` = the largest
    group), processed in chunks of points that bound memory.
    """
    device = pp_start.device
    P = point_positions.numel()
    N = pp_start.numel()
    out = torch.full((P,), -1, dtype=torch.long, device=device)
    if P == 0 or N == 0:
        return out
    point_positions = point_positions.to(device).double()
    point_labels = point_labels.to(device).long()
    point_batch = point_batch.to(device).long()
    pp_label = pp_label.long()
    pp_batch = pp_batch.long()

    num_cls = int(torch.maximum(pp_label.max(), point_labels.max()).item()) + 1
    pp_key = pp_batch * num_cls + pp_label
    order = torch.sort(pp_key, stable=True).indices            # [N]
    sorted_key = pp_key[order]
    s_start = pp_start[order].double()
    s_end = pp_end[order].double()
    s_score = pp_score[order].double()

    pt_key = point_batch * num_cls + point_labels
    lo = torch.searchsorted(sorted_key, pt_key, right=False)    # [P]
    hi = torch.searchsorted(sorted_key, pt_key, right=True)
    count = hi - lo
    G = int(count.max().item())
    if G == 0:
        return out
    prev_c, next_c = _neighbour_positions(point_positions, point_batch)
    chunk = max(1, _BLOCK_ELEMENTS // G)
    ar = torch.arange(G, device=device)
    neg_inf = torch.tensor(float('-inf'), dtype=torch.float64, device=device)
    for c0 in range(0, P, chunk):  # chunks of points, not single points
        sl = slice(c0, min(P, c0 + chunk))
        in_group = ar[None, :] < count[sl, None]                # [p, G]
        idx = (lo[sl, None] + ar[None, :]).clamp(max=N - 1)     # [p, G]
        st, en, sc = s_start[idx], s_end[idx], s_score[idx]
        c = point_positions[sl, None]
        base = in_group & (sc > 0) & (st <= c) & (c <= en)
        strict = base & (st > prev_c[sl, None]) & (en < next_c[sl, None])
        use = torch.where(strict.any(1, keepdim=True), strict, base)
        best = torch.where(use, sc, neg_inf).argmax(1)          # first max
        found = use.any(1)
        chosen = order[idx.gather(1, best[:, None]).squeeze(1)]
        out[sl] = torch.where(found, chosen, torch.full_like(chosen, -1))
    return out


def background_runs(bg_seeds: torch.Tensor, mask: torch.Tensor):
    """Maximal runs of background seeds inside each video's valid part.

    Returns ``(run_batch [R] long, run_start [R] long, run_end [R] long)``
    with ``run_end`` inclusive, ordered by video then start.
    """
    on = bg_seeds.bool() & mask.bool()
    B, T = on.shape
    pad = torch.zeros(B, 1, dtype=torch.bool, device=on.device)
    left = torch.cat([pad, on[:, :-1]], 1)
    right = torch.cat([on[:, 1:], pad], 1)
    sb, ss = torch.nonzero(on & ~left, as_tuple=True)
    eb, ee = torch.nonzero(on & ~right, as_tuple=True)
    # nonzero is row-major, so the i-th start and the i-th end pair up
    return sb, ss, ee


def _uniform(n: int, generator: Optional[torch.Generator], device
             ) -> torch.Tensor:
    gen_device = generator.device if generator is not None else 'cpu'
    u = torch.rand(n, generator=generator, dtype=torch.float64,
                   device=gen_device)
    return u.to(device)


def _run_acceptance(L: torch.Tensor) -> torch.Tensor:
    """Probability that one reference draw in a run of ``L`` snippets is
    accepted: 1 for ``L = 1``, else ``1 - H(L - 1) / (L - 1)`` (``H`` the
    harmonic number; 0 for ``L = 2``, 1/4 for ``L = 3``)."""
    Ld = L.double()
    h = torch.special.digamma(Ld) + 0.5772156649015329   # H(L - 1)
    p = 1.0 - h / (Ld - 1.0).clamp(min=1.0)
    p = torch.where(L <= 2, torch.zeros_like(p), p.clamp(min=0.0))
    return torch.where(L == 1, torch.ones_like(p), p)


def sample_negative_proposals(bg_seeds: torch.Tensor, mask: torch.Tensor,
                              num_per_video: torch.Tensor,
                              generator: Optional[torch.Generator] = None
                              ) -> Dict[str, torch.Tensor]:
    """Random sub-intervals of background-seed runs (NP).

    The reference draws a run uniformly among the video's runs; a run of one
    snippet ``s`` gives ``[s, s + 1]``; in a longer run ``[s0, sl]`` (``sl``
    its last snippet) it draws ``a = floor(U(s0, sl))``,
    ``b = floor(U(a, sl))`` and keeps ``[a, b]`` if ``a < b``, else draws
    again. Runs of two snippets can never be kept, so a video whose runs all
    have two snippets makes it loop forever.

    Here every draw comes straight from the distribution of the *kept*
    reference draws, with no rejection loop: a run is chosen with
    probability proportional to its acceptance (:func:`_run_acceptance`),
    then ``m = sl - a`` with probability proportional to ``(m - 1) / m``
    (``1 <= m <= L - 1``), then ``b`` uniform in ``{a + 1, ..., sl - 1}``.
    A video whose runs all have two snippets gets no NP (the fix), as does
    one without background seeds.

    Args:
        bg_seeds: ``[B, T]`` bool background seeds.
        mask: ``[B, T]`` bool, True on valid snippets (seeds in padding are
            ignored).
        num_per_video: ``[B]`` long number of draws per video.
        generator: source of randomness (``None``: torch's default one).

    Returns:
        ``dict(batch_idx [M] long, start [M] float32, end [M] float32)`` in
        snippet units, ordered by video.
    """
    device = bg_seeds.device
    B = bg_seeds.shape[0]
    run_b, run_s, run_e = background_runs(bg_seeds, mask)
    L = run_e - run_s + 1                                        # [R]
    acc = _run_acceptance(L)                                     # [R]
    acc_per_video = torch.zeros(B, dtype=torch.float64, device=device)
    acc_per_video.index_add_(0, run_b, acc)
    n = num_per_video.to(device).long().clamp(min=0)
    n = torch.where(acc_per_video > 0, n, torch.zeros_like(n))
    M = int(n.sum().item())
    if M == 0:
        z = torch.zeros(0, device=device)
        return dict(batch_idx=torch.zeros(0, dtype=torch.long, device=device),
                    start=z, end=z.clone())
    batch = torch.repeat_interleave(torch.arange(B, device=device), n)  # [M]
    u = _uniform(3 * M, generator, device)
    u_run, u_a, u_b = u[:M], u[M:2 * M], u[2 * M:]
    # run: inverse CDF of the acceptance weights within the draw's video
    cum = torch.cumsum(acc, 0)                                   # [R]
    before = torch.cumsum(acc_per_video, 0) - acc_per_video      # [B]
    target = before[batch] + u_run * acc_per_video[batch]
    pick = torch.searchsorted(cum, target, right=True)
    last_run = torch.cumsum(torch.bincount(run_b, minlength=B), 0) - 1
    pick = torch.minimum(pick, last_run[batch])
    Lp = L[pick]
    # m = sl - a: weights (m - 1) / m, cumulative C(m) = m - H(m)
    m_max = int(Lp.max().item())
    mm = torch.arange(1, max(m_max, 2), device=device, dtype=torch.float64)
    C = mm - torch.cumsum(1.0 / mm, 0)                           # C(1..)
    total = (Lp - 1).double() - (torch.special.digamma(Lp.double())
                                 + 0.5772156649015329)       # C(L - 1)
    m = torch.searchsorted(C, u_a * total, right=True) + 1
    m = torch.minimum(m.clamp(min=2), (Lp - 1).clamp(min=2))
    sl = run_e[pick]
    a = sl - m
    b = a + 1 + torch.minimum((u_b * (m - 1).double()).long(), m - 2)
    single = Lp == 1
    start = torch.where(single, run_s[pick], a)
    end = torch.where(single, run_s[pick] + 1, b)
    return dict(batch_idx=batch, start=start.to(torch.float32),
                end=end.to(torch.float32))


def flatten_points(points: Union[Dict[str, torch.Tensor], Sequence],
                   device=None) -> Dict[str, torch.Tensor]:
    """Points as flat tensors ``dict(batch_idx, snippets, labels,
    positions)``.

    Accepts that dict already (``snippets``/``labels`` or ``snippet``/
    ``label``), or one entry per video holding ``snippets`` and ``labels``
    (an ``InstanceData`` such as ``data_sample.gt_points``, or a dict).
    ``positions`` are the exact point times in snippet units (float64);
    where the input has none, each point sits at its snippet's centre
    (``snippet + 0.5``).
    """
    def get(p, *names):
        for n in names:
            v = p.get(n) if isinstance(p, dict) else getattr(p, n, None)
            if v is not None:
                return v
        return None

    if isinstance(points, dict):
        snip = get(points, 'snippets', 'snippet').to(device).long()
        pos = get(points, 'positions')
        pos = (snip.double() + 0.5 if pos is None
               else pos.to(device).double())
        return dict(batch_idx=points['batch_idx'].to(device).long(),
                    snippets=snip, positions=pos,
                    labels=get(points, 'labels', 'label').to(device).long())
    snips, labs, bs, poss = [], [], [], []
    for i, p in enumerate(points):
        s = torch.as_tensor(get(p, 'snippets')).reshape(-1).long().to(device)
        snips.append(s)
        labs.append(torch.as_tensor(get(p, 'labels')).reshape(-1).long()
                    .to(device))
        pos = get(p, 'positions')
        poss.append(s.double() + 0.5 if pos is None else
                    torch.as_tensor(pos).reshape(-1).double().to(device))
        bs.append(torch.full_like(s, i))
    if not snips:
        e = torch.zeros(0, dtype=torch.long, device=device)
        return dict(batch_idx=e, snippets=e.clone(), labels=e.clone(),
                    positions=e.double())
    return dict(batch_idx=torch.cat(bs), snippets=torch.cat(snips),
                labels=torch.cat(labs), positions=torch.cat(poss))


def containing_proposals(pp_start: torch.Tensor, pp_end: torch.Tensor,
                         pp_label: torch.Tensor, pp_score: torch.Tensor,
                         pp_batch: torch.Tensor,
                         point_positions: torch.Tensor,
                         point_labels: torch.Tensor,
                         point_batch: torch.Tensor):
    """Every (point, PP) pair where the PP has the point's video and class,
    OIC > 0, and contains the point's exact position (``s <= p <= e``).

    Returns ``(point_index [K], pp_index [K])`` sorted by point then PP.
    One ``[P, N]`` comparison per call (mining runs per batch of videos).
    """
    device = pp_start.device
    centre = point_positions.to(device).double()[:, None]
    hit = ((point_batch.to(device)[:, None] == pp_batch[None, :])
           & (point_labels.to(device)[:, None] == pp_label[None, :])
           & (pp_score[None, :] > 0)
           & (pp_start.double()[None, :] <= centre)
           & (centre <= pp_end.double()[None, :]))
    point_index, pp_index = torch.nonzero(hit, as_tuple=True)
    return point_index, pp_index


def mine_proposals(candidates: Dict[str, torch.Tensor],
                   points: Union[Dict[str, torch.Tensor], Sequence],
                   bg_seeds: torch.Tensor, mask: torch.Tensor,
                   seed: int = 0,
                   generator: Optional[torch.Generator] = None,
                   np_ratio: float = 0.5,
                   rp_mode: str = 'reliable'
                   ) -> Dict[str, Dict[str, torch.Tensor]]:
    """PP, RP and NP of a batch of videos (all in snippet units).

    Args:
        candidates: ``dict(batch_idx, start, end, label, score)`` flat
            tensors (see ``candidates.generate_candidates``).
        points: the batch's points (see :func:`flatten_points`).
        bg_seeds: ``[B, T]`` bool background seeds; mask: ``[B, T]`` bool.
        seed: seeds a fresh CPU generator when ``generator`` is None.
        generator: pass one generator across the batches of a mining pass
            (fixed video order) to get one reproducible stream.
        np_ratio: NP draws per video = ``int(np_ratio x #PP of the video)``
            (0: no NP, the "without NP" ablation).
        rp_mode: ``'reliable'`` (the method: one RP per point, the highest-OIC
            containing proposal between the neighbouring points) or
            ``'all_containing'`` (the "without RP" ablation: every PP of the
            point's class with OIC > 0 that contains the point serves as a
            reference, with no reliability selection).

    Returns:
        ``dict(pp=..., rp=..., np=...)``:

        * ``pp``: ``batch_idx, start, end, label, score`` (the candidates);
        * ``rp``: one row per point that has an RP: ``batch_idx, start, end,
          label, score, pp_index`` (into ``pp``), ``point_index`` (into the
          flat points), ``point_snippet``, ``point_label``;
        * ``np``: ``batch_idx, start, end``.
    """
    device = bg_seeds.device
    B = bg_seeds.shape[0]
    pp = {k: candidates[k].to(device) for k in
          ('batch_idx', 'start', 'end', 'label', 'score')}
    pts = flatten_points(points, device)
    if rp_mode == 'reliable':
        rp_index = select_reliable_proposals(
            pp['start'], pp['end'], pp['label'], pp['score'], pp['batch_idx'],
            pts['positions'], pts['labels'], pts['batch_idx'])
        has = rp_index >= 0
        point_index = torch.nonzero(has, as_tuple=True)[0]
        pp_index = rp_index[has]
    elif rp_mode == 'all_containing':
        point_index, pp_index = containing_proposals(
            pp['start'], pp['end'], pp['label'], pp['score'], pp['batch_idx'],
            pts['positions'], pts['labels'], pts['batch_idx'])
    else:
        raise ValueError(f"rp_mode must be 'reliable' or 'all_containing', "
                         f'got {rp_mode!r}')
    rp = {k: v[pp_index] for k, v in pp.items()}
    rp.update(pp_index=pp_index, point_index=point_index,
              point_snippet=pts['snippets'][point_index],
              point_label=pts['labels'][point_index])

    if generator is None:
        generator = torch.Generator().manual_seed(int(seed))
    num_pp = torch.bincount(pp['batch_idx'].long(), minlength=B)[:B]
    num_np = torch.floor(num_pp.double() * np_ratio).long()
    neg = sample_negative_proposals(bg_seeds, mask, num_np, generator)
    return dict(pp=pp, rp=rp, np=neg)
