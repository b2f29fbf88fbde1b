"""hrpro_plugin.visualization.layout: lanes, tracks, margins, sizes."""
import itertools
from collections import OrderedDict

import numpy as np
import pytest

from hrpro_plugin.visualization import assign_lanes
from hrpro_plugin.visualization.layout import (
    FOOT_IN, HEAD_IN, Track, build_tracks, figure_height, label_centres,
    left_margin, num_lanes, pred_track_label, prediction_lanes,
    score_label_width, track_labels, track_positions)


def test_assign_lanes_known_answer():
    assert assign_lanes([[0, 5], [1, 2], [3, 4], [6, 7]]).tolist() == \
        [0, 1, 1, 0]
    # input order does not matter, only starts do
    assert assign_lanes([[6, 7], [3, 4], [1, 2], [0, 5]]).tolist() == \
        [0, 1, 1, 0]
    # touching boxes share a lane; padding separates them
    assert assign_lanes([[0, 1], [1, 2]]).tolist() == [0, 0]
    assert assign_lanes([[0, 1], [1, 2]], pad=0.1).tolist() == [0, 1]
    # a whole-video box and three short ones inside it
    assert assign_lanes([[0, 100], [10, 20], [15, 30], [40, 50]]).tolist() \
        == [0, 1, 2, 1]
    # max_lanes: the fourth nested box goes to the lane that frees first
    assert assign_lanes([[0, 10], [1, 9], [2, 8], [3, 7]],
                        max_lanes=3).tolist() == [0, 1, 2, 2]
    assert assign_lanes(np.zeros((0, 2))).tolist() == []


def test_assign_lanes_is_optimal_and_overlap_free():
    rng = np.random.default_rng(0)
    for _ in range(20):
        s = rng.uniform(0, 50, 30)
        segs = np.stack([s, s + rng.uniform(0.1, 15, 30)], 1)
        lanes = assign_lanes(segs)
        for i, j in itertools.combinations(range(len(segs)), 2):
            if lanes[i] == lanes[j]:
                assert min(segs[i, 1], segs[j, 1]) <= max(segs[i, 0],
                                                          segs[j, 0])
        # lanes used = the most boxes covering one instant (interval graphs)
        depth = max(((segs[:, 0] <= x) & (segs[:, 1] > x)).sum()
                    for x in segs[:, 0])
        assert lanes.max() + 1 == depth


def test_num_lanes():
    assert num_lanes(np.array([0, 2, 1])) == 3
    assert num_lanes(np.zeros(0, dtype=np.int64)) == 1  # an empty track


def test_track_positions_known_answer():
    # tracks 1, 2 and 1 units tall, stacked from the top of [0, 4]
    total, tops, centres = track_positions([1.0, 2.0, 1.0])
    assert total == 4.0
    assert tops.tolist() == [4.0, 3.0, 1.0]
    assert centres.tolist() == [3.5, 2.0, 0.5]
    total, _, centres = track_positions([])
    assert total == 1.0 and centres.tolist() == []


def test_track_labels_and_left_margin():
    classes = ['walk', 'run']
    assert pred_track_label('pred', 'walk', many=False) == 'pred walk'
    assert pred_track_label('ours', 'walk', many=True) == 'ours: walk'
    assert track_labels(classes, [1, 0], ['pred'], [('RP', 'prop', None)]) \
        == ['GT run', 'GT walk', 'pred run', 'pred walk', 'RP']
    assert track_labels(classes, [0], ['a', 'b']) == ['GT walk', 'a: walk',
                                                      'b: walk']
    # 0.6 em of 9 pt a character plus 0.3 in, at least 1.3 in
    assert left_margin(['GT walk']) == 1.3
    assert left_margin([]) == 1.3
    assert left_margin(['x' * 20]) == pytest.approx(20 * 0.075 + 0.3)


def test_score_label_width_known_answer():
    # axes 10 - 1.3 - 0.2 = 8.5 in for 60 s; 4 characters (+0.2) at 0.6 em
    # of 8.5 pt: 4.2 * 0.6 * 8.5 / 72 in = 4.2 * 0.6 * 60 / 72 s
    scores = [np.array([0.5, 1.25])]
    assert score_label_width(scores, 60.0, 10.0, 1.3) == pytest.approx(2.1)
    # '-0.12' is 5 characters; no scores at all still reserves 4
    assert score_label_width([np.array([-0.12])], 60.0, 10.0, 1.3) == \
        pytest.approx(2.6)
    assert score_label_width([], 60.0, 10.0, 1.3) == pytest.approx(2.1)
    # a figure too narrow for its margins still gets a 1 in axes
    assert score_label_width(scores, 60.0, 1.0, 1.3) == \
        pytest.approx(4.2 * 0.6 * 8.5 / 72 * 60)


def test_label_centres_stay_inside():
    segs = np.array([[0, 0.2], [10, 12], [59.8, 60]])
    assert label_centres(segs, 2.0, 60.0).tolist() == [1.0, 11.0, 59.0]
    # a video shorter than a label: every label at its half width
    assert label_centres(segs[:1], 2.0, 1.0).tolist() == [1.0]


def test_prediction_lanes_count_the_label():
    # boxes 0.4 s apart whose 1 s labels would collide: two lanes
    close = np.array([[10.0, 10.1], [10.5, 10.6]])
    assert prediction_lanes(close, 1.0, 60.0).tolist() == [0, 1]
    # the same boxes 3 s apart share a lane
    apart = np.array([[10.0, 10.1], [13.0, 13.1]])
    assert prediction_lanes(apart, 1.0, 60.0).tolist() == [0, 0]
    assert prediction_lanes(np.zeros((0, 2)), 1.0, 60.0).tolist() == []


def test_build_tracks_known_answer():
    segs = np.array([[0.0, 10.0], [2.0, 4.0], [20.0, 30.0]])
    sets = OrderedDict(pred=(segs, np.array([0, 0, 1]),
                             np.array([0.9, 0.8, 0.7])))
    tracks = build_tracks(['walk', 'run'], [1, 0], sets, 1.0, 60.0,
                          [('pseudo bg', 'bg', 'flags'),
                           ('RP', 'prop', 'props')])
    assert [(t.label, t.kind, t.units) for t in tracks] == [
        ('GT run', 'gt', 1.0), ('pred run', 'pred', 1.0),
        ('GT walk', 'gt', 1.0), ('pred walk', 'pred', 2.0),
        ('pseudo bg', 'bg', 1.0), ('RP', 'prop', 2.4)]
    name, c, sel, lanes = tracks[3].payload
    assert (name, c, sel.tolist(), lanes.tolist()) == ('pred', 0, [0, 1],
                                                       [0, 1])
    assert tracks[0].payload == 1 and isinstance(tracks[0], Track)
    # a class without predictions still gets its (one-lane) track
    empty = build_tracks(['walk'], [0], OrderedDict(
        a=(np.zeros((0, 2)), np.zeros(0, int), np.zeros(0)),
        b=(segs[:1], np.array([0]), np.array([0.5]))), 1.0, 60.0)
    assert [(t.label, t.units) for t in empty] == [
        ('GT walk', 1.0), ('a: walk', 1.0), ('b: walk', 1.0)]


def test_figure_height_known_answer():
    # 0.3 in a unit plus 0.3; the curve panel 2.4 in
    assert figure_height(4.0, False) == pytest.approx(
        (1.5, 0.0, HEAD_IN + 1.5 + FOOT_IN))
    assert figure_height(4.0, True) == pytest.approx(
        (1.5, 2.4, HEAD_IN + 1.5 + 2.4 + FOOT_IN))
    assert HEAD_IN + FOOT_IN == pytest.approx(1.5)
