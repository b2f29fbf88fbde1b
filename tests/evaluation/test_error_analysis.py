"""hrpro_plugin.evaluation.functional.error_analysis: known answers on
hand-made predictions, one of each error type."""
import numpy as np
import pytest

from hrpro_plugin.evaluation.functional import mean_average_precision
from hrpro_plugin.evaluation.functional.ap import _match_video
from hrpro_plugin.evaluation.functional.error_analysis import (
    CATEGORIES, analyze_errors, bin_names, classify_predictions,
    false_negative_rates, false_positive_profile, removal_gains)

CLASSES = ['a', 'b']
A, B = 0, 1

# one video; class a has G = 5 segments of lengths 10, 10, 1, 3, 20 s,
# class b one of 10 s
GT = {
    'v1': (np.array([[0, 10], [20, 30], [40, 50], [60, 61], [80, 83],
                     [100, 120]], dtype=float),
           np.array([A, B, A, A, A, A])),
}
# (segment, label, score, expected category); class a in score order:
# TP, double, wrong label, localization, confusion, background, background,
# TP (after all the false positives)
ROWS = [
    ([0, 10], A, 0.90, 'true_positive'),      # = g0
    ([1, 10], A, 0.80, 'double_detection'),   # tIoU 0.9 with g0 (taken)
    ([20, 30], A, 0.70, 'wrong_label'),       # tIoU 1 with g1 (class b)
    ([40, 44], A, 0.60, 'localization'),      # tIoU 0.4 with g2
    ([20, 24], A, 0.50, 'confusion'),         # tIoU 0.4 with g1 (class b)
    ([130, 140], A, 0.40, 'background'),
    ([150, 160], A, 0.35, 'background'),
    ([60, 61], A, 0.30, 'true_positive'),     # = g3, rank 7
    ([20, 30], B, 0.95, 'true_positive'),     # = g1
]


def preds_of(rows=ROWS, video='v1'):
    return {video: (np.array([r[0] for r in rows], dtype=float),
                    np.array([r[1] for r in rows]),
                    np.array([r[2] for r in rows]))}


def test_each_error_type_once():
    cats = classify_predictions(GT, preds_of(), CLASSES, tiou=0.5)
    assert [CATEGORIES[c] for c in cats.category] == [r[3] for r in ROWS]
    assert cats.rank.tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 0]
    assert cats.matched_gt.tolist() == [0, -1, -1, -1, -1, -1, -1, 3, 1]
    assert cats.num_gt.tolist() == [5, 1]
    assert cats.gt_rank.tolist() == [0, 0, np.inf, 7, np.inf, np.inf]
    assert cats.gt_count.tolist() == [5, 1, 5, 5, 5, 5]
    assert cats.gt_length.tolist() == [10, 10, 10, 1, 3, 20]


def test_breakdown_and_profile_counts():
    cats = classify_predictions(GT, preds_of(), CLASSES, tiou=0.5)
    prof = false_positive_profile(cats, [1, 2])
    # top-1G: class a's 5 best (TP, DD, WL, LOC, CONF) + class b's TP;
    # top-2G: every prediction (class a has 8 < 10)
    assert prof.tolist() == [[2, 1, 1, 1, 1, 0], [3, 1, 1, 1, 1, 2]]
    out = analyze_errors(GT, preds_of(), CLASSES, tiou=0.5,
                         profile_multiples=[1, 2])
    assert dict(out['breakdown']) == dict(
        true_positive=2, double_detection=1, wrong_label=1, localization=1,
        confusion=1, background=0)
    assert out['analysed'] == 6 and out['num_gt'] == 6
    assert out['num_predictions'] == 9
    assert out['profile'] == dict(multiples=[1, 2],
                                  counts=prof.tolist())


def test_removal_gains_exact():
    # class a: G = 5, TPs at ranks 0 and 7 -> AP = 0.2 * 1 + 0.2 * 2 / 8;
    # class b: AP 1. Removing one false positive ranked before the second
    # TP moves it to rank 6 (precision 2/7), removing the two backgrounds
    # to rank 5 (2/6), removing all to rank 1 (2/2).
    ap_a = 0.2 + 0.2 * 2 / 8
    gains = analyze_errors(GT, preds_of(), CLASSES, tiou=0.5)['gains']
    assert gains['base'] == pytest.approx((ap_a + 1) / 2, abs=1e-12)
    one = (0.2 + 0.2 * 2 / 7 - ap_a) / 2  # = 1 / 280
    assert one == pytest.approx(1 / 280)
    for key in ('double_detection', 'wrong_label', 'localization',
                'confusion'):
        assert gains[key] == pytest.approx(one, abs=1e-12), key
    assert gains['background'] == pytest.approx(1 / 120, abs=1e-12)
    assert gains['all_false_positives'] == pytest.approx(0.075, abs=1e-12)


def test_false_negative_rates_by_length_and_count():
    cats = classify_predictions(GT, preds_of(), CLASSES, tiou=0.5)
    rate, total = false_negative_rates(cats, [2, 4, 8, 16], 'length', 1)
    # missed at top-1G: g2 (10 s), g3 (1 s, matched only at rank 7 >= 5),
    # g4 (3 s), g5 (20 s); hit: g0, g1 (10 s)
    assert total.tolist() == [1, 1, 0, 3, 1]
    assert rate[[0, 1, 3, 4]].tolist() == pytest.approx([1, 1, 1 / 3, 1])
    assert np.isnan(rate[2])
    rate2, _ = false_negative_rates(cats, [2, 4, 8, 16], 'length', 2)
    assert rate2[0] == 0  # g3 is within the top-2G
    rate, total = false_negative_rates(cats, [1, 4, 8, 16], 'count', 1)
    assert total.tolist() == [1, 0, 5, 0, 0]  # b: 1 segment, a: 5
    assert rate[0] == 0 and rate[2] == pytest.approx(4 / 5)
    assert bin_names([2, 4]) == ('(0, 2]', '(2, 4]', '> 4')
    assert bin_names([1, 4, 8], integer=True) == ('1', '2-4', '5-8', '> 8')
    with pytest.raises(ValueError, match='increase'):
        false_negative_rates(cats, [4, 2])


def test_precedence_of_the_rules():
    gt = {'v': (np.array([[0, 10], [5, 15]], dtype=float),
                np.array([A, B]))}
    # tIoU with g0 (a): [3, 13] -> 7/13 = 0.54; with g1 (b): 8/12 = 0.67
    rows = [
        ([0, 10], A, 0.9, 'true_positive'),
        # >= t with a taken a-segment and with a b-segment: double detection
        ([3, 13], A, 0.8, 'double_detection'),
        # 0.3 with g0 (a), 0.67 with g1 (b): wrong label before localization
        ([6, 15], A, 0.7, 'wrong_label'),
        # a: [8, 11]: 2/11 = 0.18 with g0, 3/10 = 0.3 with g1: localization
        # before confusion
        ([8, 11], A, 0.6, 'localization'),
        # 0 with g0, 3/11 = 0.27 with g1 (b): confusion
        ([12, 16], A, 0.5, 'confusion'),
        # 0 with g0, 0.5/11 = 0.045 < 0.1 with g1: background
        ([14.5, 16], A, 0.4, 'background'),
    ]
    cats = classify_predictions(gt, preds_of(rows, 'v'), CLASSES, tiou=0.5)
    assert [CATEGORIES[c] for c in cats.category] == [r[3] for r in rows]
    # at tIoU 0.25 the third one reaches t with g0 (0.27), which is taken:
    # a double detection, before wrong label
    cats = classify_predictions(gt, preds_of(rows, 'v'), CLASSES, tiou=0.25)
    assert CATEGORIES[cats.category[2]] == 'double_detection'


def test_videos_without_ground_truth_and_ties():
    gt = {'v1': (np.array([[0, 10]], dtype=float), np.array([A])),
          'v2': (np.zeros((0, 2)), np.zeros(0, dtype=int))}
    preds = {
        'v2': (np.array([[0, 10]], dtype=float), np.array([A]),
               np.array([0.5])),
        'v1': (np.array([[0, 10], [0, 9]], dtype=float), np.array([A, A]),
               np.array([0.5, 0.5])),
        'other': (np.array([[0, 10]], dtype=float), np.array([B]),
                  np.array([1.0])),
    }
    cats = classify_predictions(gt, preds, CLASSES, tiou=0.5)
    assert cats.videos == ('v2', 'v1', 'other')
    # ties keep the predictions' mapping order, as the AP does
    assert cats.rank.tolist() == [0, 1, 2, 0]
    assert [CATEGORIES[c] for c in cats.category] == [
        'background', 'true_positive', 'double_detection', 'background']
    assert cats.num_gt.tolist() == [1, 0]
    # class b has no ground truth: nothing of it is analysed
    assert false_positive_profile(cats, [1]).sum() == 1


def test_true_positives_are_the_aps():
    """On random predictions: the matched set is the AP's (same matching
    routine per class and video), and removal gains recompute the project's
    mAP."""
    rng = np.random.default_rng(0)
    n_cls, gt, preds = 3, {}, {}
    for i in range(6):
        k = rng.integers(1, 6)
        s = rng.uniform(0, 80, k)
        gt[f'v{i}'] = (np.stack([s, s + rng.uniform(1, 15, k)], 1),
                       rng.integers(0, n_cls, k))
        m = rng.integers(0, 30)
        s = rng.uniform(0, 90, m)
        preds[f'v{i}'] = (np.stack([s, s + rng.uniform(0.5, 20, m)], 1),
                          rng.integers(0, n_cls, m),
                          np.round(rng.uniform(0, 2, m), 1))  # many ties
    for t in (0.3, 0.5, 0.7):
        cats = classify_predictions(gt, preds, n_cls, tiou=t)
        for vi, video in enumerate(cats.videos):
            segs, labels, scores = preds[video]
            g_segs, g_labels = gt[video]
            for c in range(n_cls):
                sel = labels == c
                order = np.argsort(-scores[sel], kind='stable')
                expect = np.zeros(sel.sum(), dtype=bool)
                expect[order] = _match_video(g_segs[g_labels == c],
                                             segs[sel][order],
                                             np.array([t]))[0]
                mine = cats.category[(cats.pred_video == vi)][sel] == 0
                assert (mine == expect).all(), (video, c, t)
        gains = removal_gains(gt, preds, n_cls, cats)
        base = mean_average_precision(gt, preds, n_cls, [t])[0][0]
        assert gains['base'] == base
        assert all(v >= -1e-12 for k, v in gains.items() if k != 'base')
        # keeping only the true positives: AP_c = matched_c / G_c
        tp = np.bincount(cats.pred_label[cats.category == 0],
                         minlength=n_cls)
        valid = cats.num_gt > 0
        assert base + gains['all_false_positives'] == pytest.approx(
            (tp[valid] / cats.num_gt[valid]).mean(), abs=1e-12)


def test_bad_arguments():
    with pytest.raises(ValueError, match='tiou'):
        classify_predictions(GT, preds_of(), CLASSES, tiou=0)
    with pytest.raises(ValueError, match='low_tiou'):
        classify_predictions(GT, preds_of(), CLASSES, tiou=0.3, low_tiou=0.5)
    with pytest.raises(ValueError, match='outside'):
        classify_predictions(GT, preds_of(), ['a'], tiou=0.5)
