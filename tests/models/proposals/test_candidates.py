"""Known-answer tests of candidate generation (docs/method.md, "Candidate proposals")."""
import numpy as np
import pytest
import torch

from hrpro_plugin.models.proposals.candidates import (ATTN_THRESHOLDS,
                                                      CAS_THRESHOLDS,
                                                      find_runs,
                                                      generate_candidates,
                                                      kept_classes, oic_scores,
                                                      upsample_linear)


def test_default_thresholds():
    assert len(CAS_THRESHOLDS) == 10 and len(ATTN_THRESHOLDS) == 9
    np.testing.assert_allclose(CAS_THRESHOLDS, np.arange(0, 0.25, 0.025))
    np.testing.assert_allclose(ATTN_THRESHOLDS, np.arange(0.5, 0.725, 0.025))


def test_upsample_linear_hand_made():
    # valid length 3 of 5: [0, 1, 3] -> [0, .5, 1, 2, 3, 4 (extrapolated on
    # the line through 1 and 3)]; padding stays 0
    x = torch.tensor([[0., 1., 3., 7., 9.]])
    mask = torch.tensor([[1, 1, 1, 0, 0]], dtype=torch.bool)
    up, mup = upsample_linear(x, mask, 2)
    assert up.shape == (1, 10)
    assert up[0].tolist() == [0, .5, 1, 2, 3, 4, 0, 0, 0, 0]
    assert mup[0].tolist() == [True] * 6 + [False] * 4
    # extra trailing dims are interpolated alike, scale 3
    x3 = torch.stack([x, 2 * x], -1)
    up3, m3 = upsample_linear(x3, mask, 3)
    exp = torch.tensor([0, 1 / 3, 2 / 3, 1, 5 / 3, 7 / 3, 3, 11 / 3, 13 / 3])
    torch.testing.assert_close(up3[0, :9, 0], exp)
    torch.testing.assert_close(up3[0, :9, 1], 2 * exp)
    assert int(m3.sum()) == 9 and not up3[0, 9:].any()
    # one snippet: constant
    one, _ = upsample_linear(torch.tensor([[5., 0.]]),
                             torch.tensor([[True, False]]), 2)
    assert one[0].tolist() == [5, 5, 0, 0]


def test_find_runs():
    on = torch.tensor([[1, 1, 0, 1, 0, 0, 1],
                       [0, 0, 0, 0, 0, 0, 0],
                       [1, 1, 1, 1, 1, 1, 1]], dtype=torch.bool)
    row, s, e = find_runs(on)
    assert row.tolist() == [0, 0, 0, 2]
    assert s.tolist() == [0, 3, 6, 0]
    assert e.tolist() == [2, 4, 7, 7]


def test_oic_scores_outer_clipping():
    sig = torch.tensor([[1., 2., 3., 4., 5., 6., 7., 8., 0., 0.]])
    row = torch.tensor([0, 0, 0, 0, 0])
    start = torch.tensor([0, 2, 4, 0, 6])
    end = torch.tensor([4, 6, 8, 8, 8])   # exclusive; valid length 8
    got = oic_scores(sig, row, start, end, torch.tensor([8]), 0.25)
    # [0,4): inner 2.5, 1 a side, left clipped, right {4}: 5 -> -2.5
    # [2,6): inner 4.5, {1, 6}: (2+7)/2 = 4.5 -> 0
    # [4,8): inner 6.5, left {3}: 4, right clipped (not the padding) -> 2.5
    # [0,8): inner 4.5, 2 a side, both clipped -> no outer -> 4.5
    # [6,8): n=2: left ceil(.5)=1 {5}: 6, right floor(.5)=0 -> 7.5-6 = 1.5
    torch.testing.assert_close(got, torch.tensor([-2.5, 0., 2.5, 4.5, 1.5]))


#   idx:  0    1    2    3    4    5    6    7    8    9    10   11   12   13   14   15
P_CURVE = [.3, .3, .4, .5, .1, .0, .15, .6, .8, .6, .4, .3, .25, .3, .5, .5]
A_CURVE = [.2, .2, .2, .2, .2, .7, .7, .7, .7, .2, .7, .7, .7, .7, .7, .7]
# P branch, thr 0.25: values < .25 are zeroed, runs are the positive values
# left (12 equals .25: on):
#   thresholded P = [.3,.3,.4,.5,0,0,0,.6,.8,.6,.4,.3,.25,.3,.5,.5]
#   [0,4):  inner 1.5/4 = .375; left 1 clipped, right 1 {4}: 0 -> .375
#   [7,16): inner 4.25/9; left ceil(2.25) = 3 {4,5,6}: 0, right
#           floor(2.25) = 2 clipped -> 4.25/9
# A branch, thr 0.5, OIC on the unthresholded P:
#   [5,9):  inner (0+.15+.6+.8)/4 = .3875; {4}: .1, {9}: .6 -> .35
#           -> .0375
#   [10,16): inner 2.25/6 = .375; left ceil(1.5) = 2 {8, 9}: .7, right
#           floor(1.5) = 1 clipped -> -.325
EXPECTED = [  # (start, end, score)
    (0, 4, .375), (7, 16, 4.25 / 9), (5, 9, .0375), (10, 16, -.325),
]


def _hand_batch(pad=0, C=2):
    T = 16 + pad
    g = torch.Generator().manual_seed(3)
    cas = torch.rand(1, T, C, generator=g)  # class 1 and padding: garbage
    cas[0, :16, 0] = torch.tensor(P_CURVE)
    attn = torch.rand(1, T, generator=g)
    attn[0, :16] = torch.tensor(A_CURVE)
    mask = torch.zeros(1, T, dtype=torch.bool)
    mask[0, :16] = True
    vs = torch.tensor([[0.9, 0.1]])
    return cas, attn, vs, mask


def _as_rows(out):
    return sorted(zip(out['start'].tolist(), out['end'].tolist(),
                      out['score'].tolist()))


@pytest.mark.parametrize('pad', [0, 5])
def test_runs_and_oic_hand_made_scale1(pad):
    cas, attn, vs, mask = _hand_batch(pad)
    out = generate_candidates(cas, attn, vs, mask, cas_thresholds=(0.25,),
                              attn_thresholds=(0.5,), scale=1)
    assert out['label'].tolist() == [0] * 4
    assert out['batch_idx'].tolist() == [0] * 4
    for k in ('start', 'end', 'score'):
        assert out[k].dtype == torch.float32
    got = _as_rows(out)
    exp = sorted((float(s), float(e), sc) for s, e, sc in EXPECTED)
    for (gs, ge, gsc), (es, ee, esc) in zip(got, exp):
        assert (gs, ge) == (es, ee)
        assert abs(gsc - esc) < 1e-6
    assert len(got) == len(exp)


def test_scale2_units():
    # P = [0, .4, .4, 0] -> upsampled [0, .2, .4, .4, .4, .2, 0, -.2]
    # (the last position extrapolated)
    cas = torch.tensor([[0., .4, .4, 0.]])[..., None]
    attn = torch.zeros(1, 4)
    mask = torch.ones(1, 4, dtype=torch.bool)
    vs = torch.tensor([[0.7]])
    out = generate_candidates(cas, attn, vs, mask, cas_thresholds=(0.1, 0.3),
                              attn_thresholds=(0.5,))
    rows = _as_rows(out)
    # thr .1: upsampled run [1, 6) -> snippets [0.5, 3.0); inner 1.6/5 = .32,
    #   left ceil(1.25) = 2 clipped to {0}: 0, right 1 {6}: 0 -> .32
    # thr .3: run [2, 5) -> [1.0, 2.5); inner .4, left 1 {1}: .2 zeroed
    #   (< .3), right 0 -> .4
    assert [(r[0], r[1]) for r in rows] == [(0.5, 3.0), (1.0, 2.5)]
    torch.testing.assert_close(torch.tensor([r[2] for r in rows]),
                               torch.tensor([.32, .4]))


def test_kept_classes_rule():
    vs = torch.tensor([[0.6, 0.2, 0.7],
                       [0.1, 0.4, 0.3],
                       [0.5, 0.49, 0.1]])
    assert kept_classes(vs).tolist() == [[True, False, True],
                                         [False, True, False],
                                         [True, False, False]]
    T = 6
    cas = torch.full((3, T, 3), 0.5)
    attn = torch.full((3, T), 0.9)
    mask = torch.ones(3, T, dtype=torch.bool)
    out = generate_candidates(cas, attn, vs, mask)
    pairs = sorted(set(zip(out['batch_idx'].tolist(), out['label'].tolist())))
    assert pairs == [(0, 0), (0, 2), (1, 1), (2, 0)]
    # constant curves: one whole-video run per threshold and class:
    # 10 P + 9 A candidates for each kept class, all [0, T), OIC = mean
    assert out['start'].eq(0).all() and out['end'].eq(T).all()
    assert len(out['score']) == 4 * 19
    # P branch at thresholds < .5 keeps .5 -> OIC .5; A branch also .5
    torch.testing.assert_close(out['score'], torch.full((76,), 0.5))


def test_batch_order_and_padding_invariance():
    g = torch.Generator().manual_seed(7)
    lengths = [23, 9, 31, 1]
    B, T, C = len(lengths), max(lengths) + 4, 5
    cas = torch.rand(B, T, C, generator=g) * 0.4
    attn = torch.rand(B, T, generator=g)
    vs = torch.rand(B, C, generator=g)
    mask = torch.arange(T)[None] < torch.tensor(lengths)[:, None]
    out = generate_candidates(cas, attn, vs, mask)
    b = out['batch_idx']
    assert (b[1:] >= b[:-1]).all()
    for i, L in enumerate(lengths):
        one = generate_candidates(cas[i:i + 1, :L], attn[i:i + 1, :L],
                                  vs[i:i + 1], mask[i:i + 1, :L])
        sel = b == i
        assert one['batch_idx'].eq(0).all()
        for k in ('start', 'end', 'label'):
            assert torch.equal(out[k][sel], one[k]), k
        torch.testing.assert_close(out['score'][sel], one['score'],
                                   atol=1e-6, rtol=0)
        assert (out['end'][sel] <= L).all()
