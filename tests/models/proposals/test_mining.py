"""Known-answer tests of PP / RP / NP mining."""
import torch

from hrpro_plugin.models.proposals.mining import (background_runs,
                                                  mine_proposals,
                                                  sample_negative_proposals,
                                                  select_reliable_proposals)


def _pp(rows):
    """rows: (batch, start, end, label, score)."""
    t = torch.tensor(rows, dtype=torch.float64)
    return dict(batch_idx=t[:, 0].long(), start=t[:, 1].float(),
                end=t[:, 2].float(), label=t[:, 3].long(),
                score=t[:, 4].float())


def _select(pp, pts):
    p = torch.tensor(pts, dtype=torch.long)  # (batch, snippet, label)
    return select_reliable_proposals(pp['start'], pp['end'], pp['label'],
                                     pp['score'], pp['batch_idx'],
                                     p[:, 1], p[:, 2], p[:, 0])


# video 0 points: A (snippet 5, class 0), D (snippet 5, class 1),
# B (snippet 10, class 1), C (snippet 15, class 0), E (snippet 20, class 2)
# video 1 point: F (snippet 5, class 0)
PP_ROWS = [
    (0, 3.0, 9.0, 0, 0.5),    # 0: contains A, inside (-inf, 10.5): A's RP
    (0, 2.0, 12.0, 0, 0.9),   # 1: contains A, higher OIC, crosses B
    (0, 4.0, 7.0, 0, -0.2),   # 2: contains A, strict, but OIC <= 0
    (0, 9.0, 18.0, 0, 0.8),   # 3: contains C, start 9 < 10.5: fallback RP
    (0, 8.0, 12.0, 1, -0.1),  # 4: contains B, OIC <= 0
    (0, 10.0, 11.0, 1, 0.0),  # 5: contains B, OIC == 0 (not > 0)
    (0, 4.0, 9.5, 1, 0.3),    # 6: D's RP (A at the same snippet sets no bound)
    (0, 20.6, 22.0, 2, 0.7),  # 7: starts after E's centre 20.5
    (1, 0.0, 30.0, 1, 0.9),   # 8: video 1, other class than F
]
POINTS = [(0, 5, 0), (0, 5, 1), (0, 10, 1), (0, 15, 0), (0, 20, 2),
          (1, 5, 0)]


def test_reliable_hand_case():
    rp = _select(_pp(PP_ROWS), POINTS)
    # A -> 0 (neighbour rule beats OIC), D -> 6, B -> none (OIC <= 0),
    # C -> 3 (fallback without neighbour condition), E -> none, F -> none
    assert rp.tolist() == [0, 6, -1, 3, -1, -1]


def test_reliable_fallback_and_closed_containment():
    rows = [(0, 2.0, 12.0, 0, 0.9),   # crosses the class-1 point at 10
            (0, 5.5, 7.0, 0, 0.1)]    # centre 5.5 on its start: contains
    rp = _select(_pp(rows), [(0, 5, 0), (0, 10, 1)])
    assert rp.tolist() == [1, -1]
    # without the small one the neighbour rule is dropped
    rp = _select(_pp(rows[:1]), [(0, 5, 0), (0, 10, 1)])
    assert rp.tolist() == [0, -1]
    # a point on the end boundary: [3, 5.5] contains centre 5.5
    rp = _select(_pp([(0, 3.0, 5.5, 0, 0.2)]), [(0, 5, 0)])
    assert rp.tolist() == [0]


def test_reliable_ties_and_order_invariance():
    rows = [(0, 1.0, 4.0, 0, 0.5), (0, 2.0, 5.0, 0, 0.5)]
    assert _select(_pp(rows), [(0, 3, 0)]).tolist() == [0]
    pp = _pp(PP_ROWS)
    perm = torch.randperm(len(PP_ROWS), generator=torch.Generator().manual_seed(3))
    pp2 = {k: v[perm] for k, v in pp.items()}
    rp2 = _select(pp2, POINTS)
    mapped = [int(perm[i]) if i >= 0 else -1 for i in rp2.tolist()]
    assert mapped == [0, 6, -1, 3, -1, -1]


def _naive(pp, pts):
    out = []
    for b, p, c in pts:
        others = sorted({q for bb, q, _ in pts if bb == b and q != p})
        prev = max([q for q in others if q < p], default=None)
        nxt = min([q for q in others if q > p], default=None)
        base = [i for i in range(len(pp['start']))
                if int(pp['batch_idx'][i]) == b and int(pp['label'][i]) == c
                and float(pp['score'][i]) > 0
                and float(pp['start'][i]) <= p + 0.5 <= float(pp['end'][i])]
        strict = [i for i in base
                  if (prev is None or float(pp['start'][i]) > prev + 0.5)
                  and (nxt is None or float(pp['end'][i]) < nxt + 0.5)]
        use = strict or base
        if not use:
            out.append(-1)
            continue
        best = max(float(pp['score'][i]) for i in use)
        out.append(min(i for i in use if float(pp['score'][i]) == best))
    return out


def test_reliable_matches_naive_random():
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        N, P = 60, 12
        s = torch.randint(0, 40, (N,), generator=g).float() / 2
        pp = dict(batch_idx=torch.randint(0, 3, (N,), generator=g),
                  start=s, end=s + torch.randint(1, 16, (N,), generator=g).float() / 2,
                  label=torch.randint(0, 3, (N,), generator=g),
                  score=torch.randint(-2, 6, (N,), generator=g).float() / 4)
        pts = [(int(b), int(p), int(c)) for b, p, c in zip(
            torch.randint(0, 3, (P,), generator=g),
            torch.randint(0, 25, (P,), generator=g),
            torch.randint(0, 3, (P,), generator=g))]
        assert _select(pp, pts).tolist() == _naive(pp, pts)


def test_reliable_empty_inputs():
    pp = _pp(PP_ROWS)
    assert _select(pp, [(0, 5, 7)]).tolist() == [-1]   # class without PP
    empty = {k: v[:0] for k, v in pp.items()}
    assert _select(empty, POINTS).tolist() == [-1] * len(POINTS)


def test_background_runs():
    bg = torch.tensor([[1, 1, 0, 1, 0, 1], [0, 0, 0, 0, 0, 0],
                       [1, 1, 1, 1, 1, 1]], dtype=torch.bool)
    mask = torch.tensor([[1] * 6, [1] * 6, [1] * 4 + [0] * 2], dtype=torch.bool)
    b, s, e = background_runs(bg, mask)
    assert b.tolist() == [0, 0, 0, 2]
    assert s.tolist() == [0, 3, 5, 0]
    assert e.tolist() == [1, 3, 5, 3]   # padding seeds of video 2 ignored


def test_negatives_empty_without_bg_seeds():
    bg = torch.zeros(2, 8, dtype=torch.bool)
    out = sample_negative_proposals(bg, torch.ones(2, 8, dtype=torch.bool),
                                    torch.tensor([5, 3]),
                                    torch.Generator().manual_seed(0))
    assert out['batch_idx'].numel() == 0 and out['start'].numel() == 0


def test_negatives_two_snippet_runs_terminate_inside():
    bg = torch.tensor([[1, 1, 0, 1, 1, 0, 0, 1, 1, 0]], dtype=torch.bool)
    out = sample_negative_proposals(bg, torch.ones_like(bg),
                                    torch.tensor([500]),
                                    torch.Generator().manual_seed(1))
    s, e = out['start'], out['end']
    assert s.numel() == 500
    runs = [(0, 2), (3, 5), (7, 9)]
    inside = torch.zeros(500, dtype=torch.bool)
    for a, b in runs:
        inside |= (s >= a) & (e <= b)
    assert bool(inside.all())
    assert bool(((e - s) >= 1).all()) and bool(((e - s) <= 2).all())
    assert bool((s == s.floor()).all())
    # every (run, pair) shows up: 3 runs x 3 pairs
    assert len({(float(a), float(b)) for a, b in zip(s, e)}) == 9


def test_negatives_single_snippet_run_and_counts():
    bg = torch.tensor([[0, 0, 1, 0], [1, 1, 1, 1]], dtype=torch.bool)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]], dtype=torch.bool)
    out = sample_negative_proposals(bg, mask, torch.tensor([3, 4]),
                                    torch.Generator().manual_seed(0))
    assert out['batch_idx'].tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert out['start'][:3].tolist() == [2.0] * 3
    assert out['end'][:3].tolist() == [3.0] * 3
    assert bool((out['end'][3:] <= 2).all())     # padding is not background


def test_negatives_uniform_over_pairs():
    bg = torch.ones(1, 3, dtype=torch.bool)
    out = sample_negative_proposals(bg, torch.ones_like(bg),
                                    torch.tensor([6000]),
                                    torch.Generator().manual_seed(2))
    pairs = {}
    for a, b in zip(out['start'].tolist(), out['end'].tolist()):
        pairs[(a, b)] = pairs.get((a, b), 0) + 1
    assert set(pairs) == {(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)}
    assert all(850 < v < 1150 for v in pairs.values())


def test_negatives_seeded():
    g = torch.Generator().manual_seed(0)
    bg = torch.rand(3, 50, generator=g) > 0.4
    mask = torch.ones(3, 50, dtype=torch.bool)
    n = torch.tensor([7, 0, 11])
    a = sample_negative_proposals(bg, mask, n, torch.Generator().manual_seed(5))
    b = sample_negative_proposals(bg, mask, n, torch.Generator().manual_seed(5))
    c = sample_negative_proposals(bg, mask, n, torch.Generator().manual_seed(6))
    for k in a:
        assert torch.equal(a[k], b[k])
    assert not torch.equal(a['start'], c['start'])
    assert a['batch_idx'].tolist() == [0] * 7 + [2] * 11


def test_mine_proposals_hand_case():
    pp = _pp(PP_ROWS)
    points = [dict(snippets=torch.tensor([5, 5, 10, 15, 20]),
                   labels=torch.tensor([0, 1, 1, 0, 2])),
              dict(snippets=torch.tensor([5]), labels=torch.tensor([0]))]
    bg = torch.zeros(2, 30, dtype=torch.bool)
    bg[0, 25:28] = True          # video 0: 8 PP -> 4 NP; video 1: 1 PP -> 0
    bg[1, 0:3] = True
    mask = torch.ones(2, 30, dtype=torch.bool)
    out = mine_proposals(pp, points, bg, mask, seed=3)
    assert torch.equal(out['pp']['start'], pp['start'])
    assert out['rp']['pp_index'].tolist() == [0, 6, 3]
    assert out['rp']['point_index'].tolist() == [0, 1, 3]
    assert out['rp']['point_snippet'].tolist() == [5, 5, 15]
    assert out['rp']['label'].tolist() == [0, 1, 0]
    assert out['rp']['start'].tolist() == [3.0, 4.0, 9.0]
    assert out['np']['batch_idx'].tolist() == [0] * 4
    assert bool((out['np']['start'] >= 25).all())
    assert bool((out['np']['end'] <= 28).all())
    again = mine_proposals(pp, points, bg, mask, seed=3)
    assert torch.equal(out['np']['start'], again['np']['start'])
    assert torch.equal(out['np']['end'], again['np']['end'])
    # flat points give the same
    flat = dict(batch_idx=torch.tensor([0, 0, 0, 0, 0, 1]),
                snippets=torch.tensor([5, 5, 10, 15, 20, 5]),
                labels=torch.tensor([0, 1, 1, 0, 2, 0]))
    same = mine_proposals(pp, flat, bg, mask, seed=3)
    assert torch.equal(same['rp']['pp_index'], out['rp']['pp_index'])


def test_ablation_modes_without_rp_and_without_np():
    pp = _pp(PP_ROWS)
    points = [dict(snippets=torch.tensor([5, 5, 10, 15, 20]),
                   labels=torch.tensor([0, 1, 1, 0, 2])),
              dict(snippets=torch.tensor([5]), labels=torch.tensor([0]))]
    bg = torch.zeros(2, 30, dtype=torch.bool)
    bg[0, 25:28] = True
    mask = torch.ones(2, 30, dtype=torch.bool)
    # "without RP": every PP of the point's class with OIC > 0 containing
    # the point's centre. A (5.5, class 0) -> PP 0 and 1 (PP 2 has OIC < 0);
    # D (5.5, class 1) -> PP 6; B (10.5, class 1) -> none (OIC <= 0);
    # C (15.5, class 0) -> PP 3; E -> none; F (video 1) -> none.
    out = mine_proposals(pp, points, bg, mask, seed=3,
                         rp_mode='all_containing')
    assert out['rp']['point_index'].tolist() == [0, 0, 1, 3]
    assert out['rp']['pp_index'].tolist() == [0, 1, 6, 3]
    # "without NP"
    out = mine_proposals(pp, points, bg, mask, seed=3, np_ratio=0.0)
    assert out['np']['start'].numel() == 0
    try:
        mine_proposals(pp, points, bg, mask, rp_mode='best')
    except ValueError as err:
        assert 'rp_mode' in str(err)
    else:
        raise AssertionError('unknown rp_mode accepted')
