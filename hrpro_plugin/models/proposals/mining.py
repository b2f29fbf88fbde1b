"""Stage-2 proposal mining (SPEC "Stage 2: Proposal sets"): positive (PP),
reliable (RP) and negative (NP) proposals.

Pure torch functions on flat tensors with a batch index; every position is
in snippet units (snippet ``i`` spans ``[i, i + 1)``, its centre is
``i + 0.5``).

* PP: every candidate (before NMS) with its class and OIC score.
* RP: for each point, the highest-OIC (``> 0``) PP of the point's class that
  contains the point's snippet centre (``start <= p + 0.5 <= end``, closed
  interval) and lies strictly between the neighbouring points of any class
  (``start > centre of the previous point`` and ``end < centre of the next
  point``; the neighbours are the nearest points of the same video at a
  *different* snippet index, so points sharing a snippet never limit each
  other; a missing neighbour sets no bound). If no PP meets the neighbour
  condition it is dropped; if none is left, the point has no RP.
  Ties in OIC go to the lowest PP index.
* NP: inside maximal runs of background seeds, ``int(0.5 x #PP of the
  video)`` random sub-intervals per video. Each draw picks a run uniformly
  at random among the video's runs, then a pair ``run_start <= a <= b <=
  run_end`` uniformly among all such pairs; the interval is ``[a, b + 1)``
  (a one-snippet run gives ``[s, s + 1]``). Every draw succeeds (no
  rejection), so the sampler terminates on every input; a video without
  background seeds gets no NP. Random numbers come from an explicit
  :class:`torch.Generator` (drawn on the generator's device, then moved), so
  mining twice with the same seed and the same video order gives the same
  result.
"""
from typing import Dict, Optional, Sequence, Union

import torch

# element budget of one [points, group] block in select_reliable_proposals
_BLOCK_ELEMENTS = 1 << 24


def _neighbour_centres(point_snippets: torch.Tensor,
                       point_batch: torch.Tensor):
    """Centres of the previous / next point at a different snippet index in
    the same video (``-inf`` / ``+inf`` where there is none), per point."""
    P = point_snippets.numel()
    device = point_snippets.device
    dtype = torch.float64
    if P == 0:
        empty = torch.zeros(0, dtype=dtype, device=device)
        return empty, empty
    snip = point_snippets.long()
    batch = point_batch.long()
    span = int(snip.max().item()) + 2
    key = batch * span + snip                              # orders (video, snippet)
    uniq, inverse = torch.unique(key, sorted=True, return_inverse=True)
    u_batch = uniq // span
    u_centre = (uniq % span).to(dtype) + 0.5
    G = uniq.numel()
    idx = torch.arange(G, device=device)
    inf = torch.tensor(float('inf'), dtype=dtype, device=device)
    prev_ok = (idx > 0) & (u_batch == u_batch[(idx - 1).clamp(min=0)])
    next_ok = (idx < G - 1) & (u_batch == u_batch[(idx + 1).clamp(max=G - 1)])
    prev_c = torch.where(prev_ok, u_centre[(idx - 1).clamp(min=0)], -inf)
    next_c = torch.where(next_ok, u_centre[(idx + 1).clamp(max=G - 1)], inf)
    return prev_c[inverse], next_c[inverse]


def select_reliable_proposals(pp_start: torch.Tensor, pp_end: torch.Tensor,
                              pp_label: torch.Tensor, pp_score: torch.Tensor,
                              pp_batch: torch.Tensor,
                              point_snippets: torch.Tensor,
                              point_labels: torch.Tensor,
                              point_batch: torch.Tensor) -> torch.Tensor:
    """Index of each point's reliable proposal (RP) among the PP.

    Args:
        pp_start, pp_end: ``[N]`` float, snippet units.
        pp_label: ``[N]`` long class; pp_score: ``[N]`` OIC;
        pp_batch: ``[N]`` long video index.
        point_snippets, point_labels, point_batch: ``[P]`` long.

    Returns:
        ``[P]`` long: index into the PP, ``-1`` where the point has no RP.
        See the module docstring for the rule.

    Vectorised: PP are sorted by (video, class); each point reads its
    (video, class) group as a padded ``[P, G]`` block (``G`` = the largest
    group), processed in chunks of points that bound memory.
    """
    device = pp_start.device
    P = point_snippets.numel()
    N = pp_start.numel()
    out = torch.full((P,), -1, dtype=torch.long, device=device)
    if P == 0 or N == 0:
        return out
    point_snippets = point_snippets.to(device).long()
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
    centre = point_snippets.double() + 0.5
    prev_c, next_c = _neighbour_centres(point_snippets, point_batch)
    chunk = max(1, _BLOCK_ELEMENTS // G)
    ar = torch.arange(G, device=device)
    neg_inf = torch.tensor(float('-inf'), dtype=torch.float64, device=device)
    for c0 in range(0, P, chunk):  # chunks of points, not single points
        sl = slice(c0, min(P, c0 + chunk))
        in_group = ar[None, :] < count[sl, None]                # [p, G]
        idx = (lo[sl, None] + ar[None, :]).clamp(max=N - 1)     # [p, G]
        st, en, sc = s_start[idx], s_end[idx], s_score[idx]
        c = centre[sl, None]
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


def sample_negative_proposals(bg_seeds: torch.Tensor, mask: torch.Tensor,
                              num_per_video: torch.Tensor,
                              generator: Optional[torch.Generator] = None
                              ) -> Dict[str, torch.Tensor]:
    """Random sub-intervals of background-seed runs (NP).

    Args:
        bg_seeds: ``[B, T]`` bool background seeds.
        mask: ``[B, T]`` bool, True on valid snippets (seeds in padding are
            ignored).
        num_per_video: ``[B]`` long number of draws per video (a video
            without runs gets none whatever this says).
        generator: source of randomness (``None``: torch's default one).

    Returns:
        ``dict(batch_idx [M] long, start [M] float32, end [M] float32)`` in
        snippet units, ordered by video; see the module docstring.
    """
    device = bg_seeds.device
    B = bg_seeds.shape[0]
    run_b, run_s, run_e = background_runs(bg_seeds, mask)
    runs_per_video = torch.bincount(run_b, minlength=B)          # [B]
    first_run = torch.cumsum(runs_per_video, 0) - runs_per_video
    n = num_per_video.to(device).long().clamp(min=0)
    n = torch.where(runs_per_video > 0, n, torch.zeros_like(n))
    M = int(n.sum().item())
    if M == 0:
        z = torch.zeros(0, device=device)
        return dict(batch_idx=torch.zeros(0, dtype=torch.long, device=device),
                    start=z, end=z.clone())
    batch = torch.repeat_interleave(torch.arange(B, device=device), n)  # [M]
    u = _uniform(2 * M, generator, device)
    u_run, u_pair = u[:M], u[M:]
    r = runs_per_video[batch]
    pick = first_run[batch] + (u_run * r.double()).long()
    pick = torch.minimum(pick, first_run[batch] + r - 1)
    L = run_e[pick] - run_s[pick] + 1                            # [M] >= 1
    num_pairs = L * (L + 1) // 2
    k = (u_pair * num_pairs.double()).long()
    k = torch.minimum(k, num_pairs - 1)
    # pairs enumerated by b (0-based in the run): b = j has j + 1 pairs,
    # preceded by j (j + 1) / 2 pairs
    j = ((torch.sqrt(8.0 * k.double() + 1.0) - 1.0) / 2.0).floor().long()
    j = torch.where(j * (j + 1) // 2 > k, j - 1, j)
    j = torch.where((j + 1) * (j + 2) // 2 <= k, j + 1, j)
    a = k - j * (j + 1) // 2
    start = run_s[pick] + a
    end = run_s[pick] + j + 1
    return dict(batch_idx=batch, start=start.to(torch.float32),
                end=end.to(torch.float32))


def flatten_points(points: Union[Dict[str, torch.Tensor], Sequence],
                   device=None) -> Dict[str, torch.Tensor]:
    """Points as flat tensors ``dict(batch_idx, snippets, labels)``.

    Accepts that dict already (``snippets``/``labels`` or ``snippet``/
    ``label``), or one entry per video holding ``snippets`` and ``labels``
    (an ``InstanceData`` such as ``data_sample.gt_points``, or a dict).
    """
    if isinstance(points, dict):
        snip = points.get('snippets', points.get('snippet'))
        lab = points.get('labels', points.get('label'))
        return dict(batch_idx=points['batch_idx'].to(device).long(),
                    snippets=snip.to(device).long(),
                    labels=lab.to(device).long())
    snips, labs, bs = [], [], []
    for i, p in enumerate(points):
        s = p['snippets'] if isinstance(p, dict) else p.snippets
        lab = p['labels'] if isinstance(p, dict) else p.labels
        s = torch.as_tensor(s).reshape(-1).long().to(device)
        snips.append(s)
        labs.append(torch.as_tensor(lab).reshape(-1).long().to(device))
        bs.append(torch.full_like(s, i))
    if not snips:
        e = torch.zeros(0, dtype=torch.long, device=device)
        return dict(batch_idx=e, snippets=e.clone(), labels=e.clone())
    return dict(batch_idx=torch.cat(bs), snippets=torch.cat(snips),
                labels=torch.cat(labs))


def containing_proposals(pp_start: torch.Tensor, pp_end: torch.Tensor,
                         pp_label: torch.Tensor, pp_score: torch.Tensor,
                         pp_batch: torch.Tensor,
                         point_snippets: torch.Tensor,
                         point_labels: torch.Tensor,
                         point_batch: torch.Tensor):
    """Every (point, PP) pair where the PP has the point's video and class,
    OIC > 0, and contains the point's centre (``s <= p + 0.5 <= e``).

    Returns ``(point_index [K], pp_index [K])`` sorted by point then PP.
    One ``[P, N]`` comparison per call (mining runs per batch of videos).
    """
    device = pp_start.device
    centre = point_snippets.to(device).double()[:, None] + 0.5
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
        rp_mode: ``'reliable'`` (SPEC: one RP per point, the highest-OIC
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
            pts['snippets'], pts['labels'], pts['batch_idx'])
        has = rp_index >= 0
        point_index = torch.nonzero(has, as_tuple=True)[0]
        pp_index = rp_index[has]
    elif rp_mode == 'all_containing':
        point_index, pp_index = containing_proposals(
            pp['start'], pp['end'], pp['label'], pp['score'], pp['batch_idx'],
            pts['snippets'], pts['labels'], pts['batch_idx'])
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
