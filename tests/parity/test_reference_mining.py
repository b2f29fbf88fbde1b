"""Stage-2 mining against the reference's ``reliability_ranking``: the RP of
every point (containment and neighbour bounds on exact point times) and the
distribution of the NP draws."""
import collections

import numpy as np
import torch

from hrpro_plugin.models.instance_level.mining import (mine_proposals,
                                                  sample_negative_proposals,
                                                  select_reliable_proposals)
from hrpro_plugin.models.snippet_level.pseudo_snippets import mine_pseudo_snippets

from _vectors import load

VEC = load('mining')
INP, OUT = VEC['inputs'], VEC['outputs']
SNIPPET_S = 16 / 25


def _video_points(name):
    pts = [p for p in INP['points'] if p['video_id'] == name]
    fps = INP['fps']
    return ([p['point'] * 25 / (fps * 16) for p in pts],
            [int(p['class']) for p in pts])


def test_reliable_proposals_match_reference():
    n_checked = n_none = 0
    for b, v in enumerate(INP['videos']):
        cands = v['candidates']
        s = torch.tensor([c['segment'][0] for c in cands]) / SNIPPET_S
        e = torch.tensor([c['segment'][1] for c in cands]) / SNIPPET_S
        lab = torch.tensor([int(c['label']) for c in cands])
        sc = torch.tensor([c['score'] for c in cands], dtype=torch.float64)
        pos, plab = _video_points(v['name'])
        idx = select_reliable_proposals(
            s.double(), e.double(), lab, sc, torch.zeros_like(lab),
            torch.tensor(pos, dtype=torch.float64), torch.tensor(plab),
            torch.zeros(len(pos), dtype=torch.long))
        exp = OUT['rp'][v['name']]
        for label, props in exp.items():
            mine = [i for i in range(len(pos)) if plab[i] == int(label)]
            mine.sort(key=lambda i: pos[i])
            assert len(mine) == len(props)
            for i, prop in zip(mine, props):
                n_checked += 1
                if prop is None:
                    n_none += 1
                    assert idx[i] == -1, (v['name'], i)
                else:
                    j = int(idx[i])
                    got = [cands[j]['segment'][0], cands[j]['segment'][1],
                           cands[j]['score']]
                    np.testing.assert_allclose(got, prop, rtol=0, atol=1e-9)
    assert n_checked == len(INP['points']) - 6 and 0 < n_none < n_checked


def test_duplicate_point_times_fall_back_to_containment():
    """Two points at one time: neither can lie strictly between its
    neighbours, so both take the best containing proposal."""
    s = torch.tensor([1.0, 3.0], dtype=torch.float64)
    e = torch.tensor([6.0, 5.0], dtype=torch.float64)
    lab = torch.zeros(2, dtype=torch.long)
    sc = torch.tensor([0.9, 0.5], dtype=torch.float64)
    pos = torch.tensor([4.0, 4.0, 5.5], dtype=torch.float64)
    plab = torch.tensor([0, 0, 0])
    zero = torch.zeros(3, dtype=torch.long)
    got = select_reliable_proposals(s, e, lab, sc, zero[:2], pos, plab, zero)
    # point 3 at 5.5: both contain it only for [1, 6]; neighbour 4.0 < 1?
    # no -> falls back to [1, 6]
    assert got.tolist() == [0, 0, 0]
    # one point at 4.0 alone with a neighbour at 5.5: [3, 5] lies strictly
    # between -inf and 5.5 and wins over the better-scored [1, 6]
    got = select_reliable_proposals(s, e, lab, sc, zero[:2], pos[1:],
                                    plab[1:], zero[1:])
    assert got.tolist() == [1, 0]


def _np_bg_seeds():
    bkg = torch.tensor(INP['np_bkg'], dtype=torch.float32)[None]
    T = bkg.shape[1]
    pl = torch.zeros(1, T, INP['num_classes'])
    for snip in (0, 4, 8, 15, 26, 38):
        pl[0, snip, 0] = 1
    _, bg = mine_pseudo_snippets(pl, bkg, torch.ones(1, T, dtype=torch.bool))
    return bg


def test_np_draws_follow_reference_distribution():
    bg = _np_bg_seeds()
    g = torch.Generator().manual_seed(0)
    n = 400_000
    out = sample_negative_proposals(bg, torch.ones_like(bg),
                                    torch.tensor([n]), g)
    ours = collections.Counter(zip(out['start'].tolist(), out['end'].tolist()))
    ref_iv = [tuple(x) for x in OUT['np_intervals']]
    ref_n = np.asarray(OUT['np_counts'], dtype=float)
    total = ref_n.sum()
    assert total == INP['np_num_pp'] // 2
    assert set(ours) == set(ref_iv)          # same support
    for iv, c in zip(ref_iv, ref_n):
        p_ref = c / total
        p_ours = ours[iv] / n
        se = np.sqrt(p_ref * (1 - p_ref) / total)
        assert abs(p_ours - p_ref) < 4.5 * se + 1e-3, (iv, p_ours, p_ref)


def test_np_hand_computed_probabilities():
    """A run of 4 seeds [0, 3]: the reference keeps [0, 1], [0, 2], [1, 2]
    with probabilities 2/7, 2/7, 3/7; a run of 2 is never kept; a run of 3
    always gives [s, s + 1]."""
    bg = torch.zeros(1, 12, dtype=torch.bool)
    bg[0, 0:4] = True
    bg[0, 6:8] = True     # run of 2
    g = torch.Generator().manual_seed(1)
    n = 70_000
    out = sample_negative_proposals(bg, torch.ones_like(bg),
                                    torch.tensor([n]), g)
    got = collections.Counter(zip(out['start'].tolist(), out['end'].tolist()))
    assert set(got) == {(0.0, 1.0), (0.0, 2.0), (1.0, 2.0)}
    for iv, p in (((0.0, 1.0), 2 / 7), ((0.0, 2.0), 2 / 7), ((1.0, 2.0), 3 / 7)):
        assert abs(got[iv] / n - p) < 0.01
    bg3 = torch.zeros(1, 5, dtype=torch.bool)
    bg3[0, 1:4] = True
    out = sample_negative_proposals(bg3, torch.ones_like(bg3),
                                    torch.tensor([5]), g)
    assert out['start'].tolist() == [1.0] * 5 and out['end'].tolist() == [2.0] * 5


def test_np_terminates_when_every_run_has_two_seeds():
    bg = torch.zeros(2, 10, dtype=torch.bool)
    bg[0, 2:4] = True
    bg[0, 6:8] = True
    bg[1, 0] = True
    out = sample_negative_proposals(bg, torch.ones_like(bg),
                                    torch.tensor([7, 3]))
    assert out['batch_idx'].tolist() == [1, 1, 1]
    assert out['start'].tolist() == [0.0] * 3 and out['end'].tolist() == [1.0] * 3


def test_mine_proposals_uses_point_positions():
    """Proposal [4.6, 8] and a point in snippet 4: at 4.7 it is inside, at
    4.55 outside; with no positions given the point sits at its snippet's
    centre 4.5, outside. The exact time decides, not the snippet."""
    cand = dict(batch_idx=torch.tensor([0]), start=torch.tensor([4.6]),
                end=torch.tensor([8.0]), label=torch.tensor([0]),
                score=torch.tensor([0.5]))
    bg = torch.zeros(1, 10, dtype=torch.bool)
    mask = torch.ones(1, 10, dtype=torch.bool)
    inside = dict(snippets=torch.tensor([4]), labels=torch.tensor([0]),
                  positions=torch.tensor([4.7], dtype=torch.float64))
    outside = dict(snippets=torch.tensor([4]), labels=torch.tensor([0]),
                   positions=torch.tensor([4.55], dtype=torch.float64))
    assert mine_proposals(cand, [inside], bg, mask)['rp']['start'].numel() == 1
    assert mine_proposals(cand, [outside], bg, mask)['rp']['start'].numel() == 0
    # without positions a point sits at its snippet centre 4.5: outside
    centre = dict(snippets=torch.tensor([4]), labels=torch.tensor([0]))
    assert mine_proposals(cand, [centre], bg, mask)['rp']['start'].numel() == 0
