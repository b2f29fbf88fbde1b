"""Known-answer tests of mine_pseudo_snippets (docs/method.md, "Pseudo snippets")."""
import numpy as np
import pytest
import torch

from hrpro_plugin.models.snippet_level.pseudo_snippets import mine_pseudo_snippets


def _one(b, points, T=None, C=3):
    """b: list of background probs; points: {snippet: [classes]}."""
    T = len(b) if T is None else T
    pl = torch.zeros(1, T, C)
    for s, cs in points.items():
        for c in cs:
            pl[0, s, c] = 1.0
    bg = torch.tensor([b], dtype=torch.float32)
    mask = torch.ones(1, T, dtype=torch.bool)
    return pl, bg, mask


def _sets(act, bg_seeds):
    act = act[0]
    per_class = [set(torch.nonzero(act[:, c]).flatten().tolist())
                 for c in range(act.shape[1])]
    return per_class, set(torch.nonzero(bg_seeds[0]).flatten().tolist())


# Case A: before-first / between / after-last regions all holding high b.
#   idx:  0   1    2   3    4    5pt  6    7    8   9    10   11   12pt 13   14   15
B_A = [.2, .96, .5, .97, .05, .0, .1, .96, .3, .98, .02, .01, .0, .08, .95, .4]
P_A = {5: [0], 12: [1]}
# before [0..4]: high at 1, 3 -> 0..3 (up to the LAST high)
# between [6..11]: high at 7, 9 (two) -> span 7..9
# after [13..15]: high at 14 (0.95 is inclusive) -> 14..15
# point 5 spreads to 4 (left, stops at seed 3) and 6 (b = 0.1 is inclusive;
# stops at seed 7); point 12 spreads to 11, 10 (stops at seed 9) and 13.
BG_A = {0, 1, 2, 3, 7, 8, 9, 14, 15}
ACT_A = [{4, 5, 6}, {10, 11, 12, 13}, set()]

# Case B: no high before the first point (argmax), exactly one high between
# (argmax only), no high after the last point (argmax to the end); two
# classes on one point snippet.
#   idx:  0   1   2    3pt  4    5    6   7    8pt  9    10  11
B_B = [.3, .8, .05, .0, .05, .96, .9, .05, .0, .05, .7, .4]
P_B = {3: [0, 2], 8: [1]}
# before [0..2]: argmax 1 -> {0, 1}; between [4..7]: one high (5) -> {5}
# (6 with b = 0.9 is not a seed); after [9..11]: argmax 10 -> {10, 11}.
# point 3 -> 2 (left, stops at seed 1), 4 (right, stops at seed 5);
# point 8 -> 7 (left, stops at b = 0.9 > 0.1), 9 (right, stops at seed 10).
BG_B = {0, 1, 5, 10, 11}
ACT_B = [{2, 3, 4}, {7, 8, 9}, {2, 3, 4}]

# Case C: adjacent points (empty region, no crossing), a between region
# without high b (argmax, tie -> first index), ties after the last point.
#   idx:  0    1    2    3pt 4pt 5    6   7   8    9pt 10   11
B_C = [.99, .05, .05, .0, .0, .05, .4, .4, .05, .0, .05, .05]
P_C = {3: [0], 4: [1], 9: [0]}
# before [0..2]: high at 0 -> {0}; between 3 and 4: empty;
# between [5..8]: no high, argmax tie 6/7 -> 6; after [10..11]: argmax tie
# -> 10, so {10, 11}.
# point 3 -> 2, 1 (left), right blocked by point 4; point 4 -> left blocked
# by point 3, right 5 (stops at seed 6); point 9 -> 8 (stops at b = 0.4),
# right blocked by seed 10.
BG_C = {0, 6, 10, 11}
ACT_C = [{1, 2, 3, 8, 9}, {4, 5}, set()]


@pytest.mark.parametrize('b,points,bg_exp,act_exp', [
    (B_A, P_A, BG_A, ACT_A),
    (B_B, P_B, BG_B, ACT_B),
    (B_C, P_C, BG_C, ACT_C),
])
def test_known_answers(b, points, bg_exp, act_exp):
    act, seeds = mine_pseudo_snippets(*_one(b, points))
    assert act.dtype == torch.float32 and seeds.dtype == torch.bool
    per_class, bg = _sets(act, seeds)
    assert bg == bg_exp
    assert per_class == act_exp
    assert set(torch.unique(act).tolist()) <= {0.0, 1.0}


def test_spread_stops_at_high_b_and_at_points():
    # one point at 4: spread left 3, 2 then b = 0.2 at 1 stops it;
    # right 5 then 6 is b = 0.11 > 0.1.
    b = [.97, .2, .05, .0, .0, .1, .11, .05, .99, .99]
    act, seeds = mine_pseudo_snippets(*_one(b, {4: [2]}))
    per_class, bg = _sets(act, seeds)
    # before [0..3]: high 0 -> {0}; after [5..9]: first high 8 -> 8..9
    assert bg == {0, 8, 9}
    assert per_class == [set(), set(), {2, 3, 4, 5}]


def test_between_region_always_separates_spreads():
    # A non-empty between region always holds a background seed (its argmax
    # or its high span), so the two spreads cannot reach the same snippet:
    # with all-low b the argmax (here the first max, 6) splits the region.
    b = [.9, .0, .01, .02, .03, .04, .05, .05, .03, .0, .9]
    act, seeds = mine_pseudo_snippets(*_one(b, {1: [0], 9: [1]}))
    per_class, bg = _sets(act, seeds)
    assert bg == {0, 6, 10}
    assert per_class == [{1, 2, 3, 4, 5}, {7, 8, 9}, set()]


def test_no_points_no_seeds():
    b = [.99, .99, .0, .0, .5, .99]
    act, seeds = mine_pseudo_snippets(*_one(b, {}))
    assert not seeds.any() and not act.any()


def test_point_alone_in_video():
    # a single point, no other snippet
    act, seeds = mine_pseudo_snippets(*_one([.3], {0: [1]}))
    assert not seeds.any()
    assert act[0, 0].tolist() == [0.0, 1.0, 0.0]


def _reference(b, pts, T, bg_thresh=0.95, act_thresh=0.1):
    """Sequential reading of the rules for one video (pts: snippet -> set)."""
    ps = sorted(pts)
    seeds = np.zeros(T, bool)
    act = {}
    if not ps:
        return act, seeds
    b = np.asarray(b)
    regions = [('before', 0, ps[0])]
    regions += [('between', ps[i] + 1, ps[i + 1]) for i in range(len(ps) - 1)]
    regions += [('after', ps[-1] + 1, T)]
    for kind, lo, hi in regions:
        if hi <= lo:
            continue
        high = [t for t in range(lo, hi) if b[t] >= bg_thresh]
        am = lo + int(np.argmax(b[lo:hi]))
        if kind == 'before':
            seeds[0:(high[-1] if high else am) + 1] = True
        elif kind == 'after':
            seeds[(high[0] if high else am):T] = True
        elif len(high) >= 2:
            seeds[high[0]:high[-1] + 1] = True
        else:
            seeds[am] = True
    for p in ps:
        act[p] = set(pts[p])
    for p in ps:  # left to right: the right-hand point overwrites
        for step in (-1, 1):
            t = p + step
            while 0 <= t < T and t not in pts and not seeds[t] \
                    and b[t] <= act_thresh:
                act[t] = set(pts[p])
                t += step
    return act, seeds


def test_matches_sequential_reading_random():
    g = torch.Generator().manual_seed(0)
    C = 4
    for trial in range(60):
        T = int(torch.randint(1, 40, (1,), generator=g))
        # b mixes very low, very high and middle values
        u = torch.rand(T, generator=g)
        b = torch.where(u < 0.4, u * 0.25,
                        torch.where(u > 0.75, 0.9 + (u - 0.75) * 0.4, u))
        n_pts = int(torch.randint(0, 5, (1,), generator=g))
        pts = {}
        for _ in range(n_pts):
            s = int(torch.randint(0, T, (1,), generator=g))
            c = int(torch.randint(0, C, (1,), generator=g))
            pts.setdefault(s, set()).add(c)
        ref_act, ref_seeds = _reference(b.numpy(), pts, T)
        pl = torch.zeros(1, T, C)
        for s, cs in pts.items():
            for c in cs:
                pl[0, s, c] = 1
        act, seeds = mine_pseudo_snippets(pl, b[None], torch.ones(1, T, dtype=torch.bool))
        assert seeds[0].numpy().tolist() == ref_seeds.tolist(), trial
        exp = torch.zeros(T, C)
        for t, cs in ref_act.items():
            for c in cs:
                exp[t, c] = 1
        assert torch.equal(act[0], exp), trial


def test_padding_invariance():
    cases = [(B_A, P_A), (B_B, P_B), (B_C, P_C), ([.99, .0, .5], {})]
    T = max(len(b) for b, _ in cases) + 3
    C = 3
    g = torch.Generator().manual_seed(1)
    pl = torch.zeros(len(cases), T, C)
    bg = torch.rand(len(cases), T, generator=g)  # garbage in the padding
    mask = torch.zeros(len(cases), T, dtype=torch.bool)
    for i, (b, pts) in enumerate(cases):
        L = len(b)
        bg[i, :L] = torch.tensor(b)
        mask[i, :L] = True
        pl[i, L:, 0] = 1.0  # garbage points in the padding are ignored
        for s, cs in pts.items():
            for c in cs:
                pl[i, s, c] = 1.0
    act, seeds = mine_pseudo_snippets(pl, bg, mask)
    for i, (b, pts) in enumerate(cases):
        L = len(b)
        a1, s1 = mine_pseudo_snippets(*_one(b, pts, C=C))
        assert torch.equal(act[i, :L], a1[0])
        assert torch.equal(seeds[i, :L], s1[0])
        assert not act[i, L:].any() and not seeds[i, L:].any()
