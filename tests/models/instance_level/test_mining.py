"""Known-answer tests of PP / RP / NP mining."""
import torch

from hrpro_plugin.models.instance_level.mining import (background_runs,
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
    """pts: (batch, snippet, label); each point at its snippet's centre."""
    p = torch.tensor(pts, dtype=torch.long)
    return select_reliable_proposals(pp['start'], pp['end'], pp['label'],
                                     pp['score'], pp['batch_idx'],
                                     p[:, 1].double() + 0.5, p[:, 2], p[:, 0])


# video 0 points (at snippet centres): A (5.5, class 0), D (5.5, class 1),
# B (10.5, class 1), C (15.5, class 0), E (20.5, class 2)
# video 1 point: F (5.5, class 0). A and D share their time, so neither can
# lie strictly between its neighbours: both fall back to containment.
PP_ROWS = [
    (0, 3.0, 9.0, 0, 0.5),    # 0: contains A, lower OIC than 1
    (0, 2.0, 12.0, 0, 0.9),   # 1: contains A, best OIC: A's RP (fallback)
    (0, 4.0, 7.0, 0, -0.2),   # 2: contains A, strict, but OIC <= 0
    (0, 9.0, 18.0, 0, 0.8),   # 3: contains C, start 9 < 10.5: fallback RP
    (0, 8.0, 12.0, 1, -0.1),  # 4: contains B, OIC <= 0
    (0, 10.0, 11.0, 1, 0.0),  # 5: contains B, OIC == 0 (not > 0)
    (0, 4.0, 9.5, 1, 0.3),    # 6: D's RP
    (0, 20.6, 22.0, 2, 0.7),  # 7: starts after E's centre 20.5
    (1, 0.0, 30.0, 1, 0.9),   # 8: video 1, other class than F
]
POINTS = [(0, 5, 0), (0, 5, 1), (0, 10, 1), (0, 15, 0), (0, 20, 2),
          (1, 5, 0)]


def test_reliable_hand_case():
    rp = _select(_pp(PP_ROWS), POINTS)
    # A -> 1 (fallback: D shares its time), D -> 6, B -> none (OIC <= 0),
    # C -> 3 (fallback without neighbour condition), E -> none, F -> none
    assert rp.tolist() == [1, 6, -1, 3, -1, -1]
    # with D moved away from A, the neighbour rule picks the strict PP 0
    # for A (its next neighbour is then B at 10.5)
    pts = [(0, 5, 0), (0, 10, 1), (0, 15, 0), (0, 20, 2), (1, 5, 0)]
    assert _select(_pp(PP_ROWS), pts).tolist() == [0, -1, 3, -1, -1]


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
    assert mapped == [1, 6, -1, 3, -1, -1]


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


def test_negatives_two_snippet_runs_give_none():
    """The reference never keeps a draw in a run of two seeds (and loops
    forever when every run has two); here such a video gets no NP."""
    bg = torch.tensor([[1, 1, 0, 1, 1, 0, 0, 1, 1, 0]], dtype=torch.bool)
    out = sample_negative_proposals(bg, torch.ones_like(bg),
                                    torch.tensor([500]),
                                    torch.Generator().manual_seed(1))
    assert out['start'].numel() == 0


def test_negatives_single_snippet_run_and_counts():
    bg = torch.tensor([[0, 0, 1, 0], [1, 1, 1, 1]], dtype=torch.bool)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=torch.bool)
    out = sample_negative_proposals(bg, mask, torch.tensor([3, 4]),
                                    torch.Generator().manual_seed(0))
    assert out['batch_idx'].tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert out['start'].tolist() == [2.0] * 3 + [0.0] * 4
    # video 1: a run of 3 valid seeds (padding is not background) always
    # gives [0, 1]
    assert out['end'].tolist() == [3.0] * 3 + [1.0] * 4


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
    assert out['rp']['pp_index'].tolist() == [1, 6, 3]
    assert out['rp']['point_index'].tolist() == [0, 1, 3]
    assert out['rp']['point_snippet'].tolist() == [5, 5, 15]
    assert out['rp']['label'].tolist() == [0, 1, 0]
    assert out['rp']['start'].tolist() == [2.0, 4.0, 9.0]
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
