"""Average precision: hand-computed cases and equality with mmaction2."""
import numpy as np
import pytest

from hrpro_plugin.evaluation.functional import (average_precision,
                                                filter_ambiguous,
                                                mean_average_precision,
                                                summarize_map)


def _seg(*pairs):
    return np.array(pairs, dtype=np.float64).reshape(-1, 2)


def test_ap_hand_tp_fp_tp():
    # GT: [0, 10], [20, 30]. Predictions by score:
    #   0.9 [0, 10]  -> TP (tIoU 1 with GT 1)
    #   0.8 [50, 60] -> FP (no overlap)
    #   0.7 [20, 28] -> tIoU 8/10 = 0.8 with GT 2: TP at 0.5, FP at 0.9
    # thr 0.5: TP FP TP: precision 1, 1/2, 2/3; recall 1/2, 1/2, 1
    #   envelope (max to the right): 1, 2/3, 2/3
    #   AP = (1/2 - 0) * 1 + (1 - 1/2) * 2/3 = 1/2 + 1/3 = 5/6
    # thr 0.9: TP FP FP: precision 1, 1/2, 1/3; recall 1/2, 1/2, 1/2
    #   AP = 1/2 * 1 = 1/2 (recall never reaches 1)
    gt = {'v': _seg([0, 10], [20, 30])}
    preds = {
        'v': (_seg([20, 28], [0, 10], [50, 60]), np.array([0.7, 0.9, 0.8]))
    }
    ap = average_precision(gt, preds, [0.5, 0.9])
    assert ap == pytest.approx([5 / 6, 1 / 2], abs=1e-12)


def test_duplicate_detection_is_false_positive():
    # GT [0, 10], [20, 30]; 0.9 [0, 10] TP; 0.8 [0, 9] duplicate of the
    # already matched GT 1 (tIoU 0.9, no other GT overlaps) -> FP;
    # 0.7 [20, 30] TP. TP FP TP -> AP = 5/6 (as above); without the
    # duplicate it would be 1.
    gt = {'v': _seg([0, 10], [20, 30])}
    preds = {'v': (_seg([0, 10], [0, 9], [20, 30]), np.array([.9, .8, .7]))}
    assert average_precision(gt, preds, [0.5]) == pytest.approx([5 / 6])
    no_dup = {'v': (_seg([0, 10], [20, 30]), np.array([.9, .7]))}
    assert average_precision(gt, no_dup, [0.5]) == pytest.approx([1.0])


def test_match_goes_to_best_unmatched_gt():
    # GT A [0, 10], B [5, 15]. 0.9 [0, 10] takes A (tIoU 1).
    # 0.8 [1, 11]: tIoU A = 9/11 = 0.818 (taken), B = 6/14 = 0.4286.
    # thr 0.3: matched to B -> TP TP -> AP 1.
    # thr 0.5: B below threshold -> TP FP -> recall 1/2 at precision 1 -> 0.5
    gt = {'v': _seg([0, 10], [5, 15])}
    preds = {'v': (_seg([0, 10], [1, 11]), np.array([.9, .8]))}
    assert average_precision(gt, preds,
                             [0.3, 0.5]) == pytest.approx([1.0, 0.5])


def test_prediction_in_other_video_is_fp_and_videos_do_not_share_gt():
    # v1 GT [0, 10]; v2 has no GT of this class.
    # 0.9 v2 [0, 10] -> FP; 0.8 v1 [0, 10] -> TP.
    # precision 0, 1/2; recall 0, 1 -> envelope 1/2 -> AP = 1 * 1/2
    gt = {'v1': _seg([0, 10])}
    preds = {
        'v1': (_seg([0, 10]), np.array([.8])),
        'v2': (_seg([0, 10]), np.array([.9]))
    }
    assert average_precision(gt, preds, [0.5]) == pytest.approx([0.5])


def test_no_predictions_and_no_gt():
    gt = {'v': _seg([0, 10])}
    assert np.all(average_precision(gt, {}, [0.1, 0.5]) == 0)
    empty = {'v': (np.zeros((0, 2)), np.zeros(0))}
    assert np.all(average_precision(gt, empty, [0.1, 0.5]) == 0)
    assert np.all(np.isnan(average_precision({}, empty, [0.1, 0.5])))


def test_equal_scores_keep_input_order():
    # stable sort: the FP listed first stays first -> FP TP -> AP 1/2;
    # listed second -> TP FP -> AP 1.
    gt = {'v': _seg([0, 10])}
    fp_first = {'v': (_seg([50, 60], [0, 10]), np.array([.5, .5]))}
    tp_first = {'v': (_seg([0, 10], [50, 60]), np.array([.5, .5]))}
    assert average_precision(gt, fp_first, [0.5]) == pytest.approx([0.5])
    assert average_precision(gt, tp_first, [0.5]) == pytest.approx([1.0])


def test_mean_average_precision_skips_classes_without_gt():
    # class 0: AP 5/6 at 0.5 (first case); class 1: AP 1; class 2: no GT
    # (its prediction is ignored for the mean) -> mAP = (5/6 + 1) / 2
    gt = {'v': (_seg([0, 10], [20, 30], [40, 50]), np.array([0, 0, 1]))}
    preds = {
        'v': (_seg([0, 10], [50, 60], [20, 30], [40, 50],
                   [0, 5]), np.array([0, 0, 0, 1,
                                      2]), np.array([.9, .8, .7, .6, .99]))
    }
    m, ap, valid = mean_average_precision(gt, preds, ['a', 'b', 'c'], [0.5])
    assert valid.tolist() == [True, True, False]
    assert ap[:2, 0] == pytest.approx([5 / 6, 1.0])
    assert np.isnan(ap[2, 0])
    assert m == pytest.approx([(5 / 6 + 1) / 2])
    with pytest.raises(ValueError, match='label 3'):
        mean_average_precision(gt, {'v': (_seg([0, 1]), [3], [.5])}, 3, [0.5])


def test_filter_ambiguous_positive_overlap_only():
    preds = {
        'v': (_seg([0, 10], [10, 20],
                   [30, 40]), np.array([0, 1, 0]), np.array([.9, .8, .7])),
        'w': (_seg([0, 10]), np.array([0]), np.array([.5]))
    }
    amb = {'v': _seg([19, 25], [40, 41])}  # hits [10, 20]; touches [30, 40]
    out = filter_ambiguous(preds, amb)
    assert out['v'][0].tolist() == [[0, 10], [30, 40]]
    assert out['v'][1].tolist() == [0, 0]
    assert out['v'][2].tolist() == [.9, .7]
    assert out['w'][0].tolist() == [[0, 10]]  # other video untouched
    assert preds['v'][0].shape == (3, 2)  # input not modified


def test_summarize_map_ranges():
    thr = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    vals = [0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
    s = summarize_map(thr, vals)
    assert s['all'] == pytest.approx(0.4)
    assert s['0.1-0.5'] == pytest.approx(0.5)
    assert s['0.3-0.7'] == pytest.approx(0.3)
    assert s['0.1-0.7'] == pytest.approx(0.4)
    anet = np.linspace(0.5, 0.95, 10)
    assert list(summarize_map(anet, np.ones(10))) == ['all']


def _random_case(seed, n_videos=6, n_cls=4):
    rng = np.random.default_rng(seed)
    gt, preds = {}, {}
    for v in range(n_videos):
        video = f'v_{v:03d}'  # a 'v_' prefix must survive everywhere
        n = rng.integers(0, 6)
        s = rng.uniform(0, 100, n)
        segs = np.stack([s, s + rng.uniform(1, 15, n)], 1)
        labels = rng.integers(0, n_cls, n)
        gt[video] = (segs, labels)
        # jittered copies of GT (some right, some wrong class) + noise
        m = rng.integers(0, 3 * n + 4)
        src = rng.integers(0, max(n, 1), m)
        if n:
            ps = segs[src] + rng.normal(0, 2.0, (m, 2))
            pl = np.where(
                rng.random(m) < 0.8, labels[src], rng.integers(0, n_cls, m))
        else:
            ps = np.zeros((m, 2)) + rng.uniform(0, 100, (m, 1))
            pl = rng.integers(0, n_cls, m)
        noise = rng.random(m) < 0.3
        ps[noise] = rng.uniform(0, 100, (int(noise.sum()), 1)) + \
            np.array([0., 5.])
        ps[:, 1] = np.maximum(ps[:, 1], ps[:, 0] + 0.1)
        preds[video] = (ps, pl, rng.random(m))
    return gt, preds, n_cls


@pytest.mark.parametrize('seed,n_videos', [(0, 6), (1, 6), (2, 6), (3, 6),
                                           (4, 6), (5, 40)])
def test_equals_mmaction_average_precision_at_temporal_iou(seed, n_videos):
    from mmaction.evaluation.functional import \
        average_precision_at_temporal_iou
    thr = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    gt, preds, n_cls = _random_case(seed, n_videos=n_videos)
    m, ap, valid = mean_average_precision(gt, preds, n_cls, thr)
    ref_rows = []
    for c in range(n_cls):
        # mmaction's input: {video: [[t-start, t-end], ...]} for this class,
        # and rows [video, class, t-start, t-end, score]
        ref_gt = {
            v: segs[labels == c].tolist()
            for v, (segs, labels) in gt.items() if (labels == c).any()
        }
        if not ref_gt:
            assert not valid[c]
            continue
        ref_pred = [[v, c, float(s), float(e),
                     float(x)] for v, (segs, labels, scores) in preds.items()
                    for (s, e), l, x in zip(segs, labels, scores) if l == c]
        ref = average_precision_at_temporal_iou(ref_gt, ref_pred, thr)
        assert ap[c] == pytest.approx(ref, abs=1e-6)
        ref_rows.append(ref)
    assert valid.sum() == len(ref_rows) > 0
    assert m == pytest.approx(np.mean(ref_rows, axis=0), abs=1e-6)
    assert (m > 0).any()  # the case is not trivially zero
