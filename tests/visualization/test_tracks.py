"""hrpro_plugin.visualization.tracks: what each track kind draws where."""
from collections import OrderedDict

import numpy as np
import pytest

from hrpro_plugin.visualization.layout import Track
from hrpro_plugin.visualization.style import class_colors
from hrpro_plugin.visualization.tracks import (Scene, draw_proposals,
                                               draw_track)


def _scene(**kw):
    base = dict(classes=['walk', 'run'], colors=class_colors(2),
                duration=60.0, label_w=2.0, gt_seg=np.zeros((0, 2)),
                gt_lab=np.zeros(0, int), pts=np.zeros(0),
                pt_lab=np.zeros(0, int), pred_sets=OrderedDict(), stroke=[])
    base.update(kw)
    return Scene(**base)


def _bars(ax):
    """``(x0, x1, y0, y1)`` of each bar drawn, in draw order."""
    out = []
    for coll in ax.collections:
        for path in coll.get_paths():
            (x0, y0), (x1, y1) = path.get_extents().get_points()
            out.append((x0, x1, y0, y1))
    return np.array(out)


def test_ground_truth_bars_and_points(axes):
    scene = _scene(gt_seg=np.array([[1.0, 3.0], [5.0, 5.0], [7.0, 8.0]]),
                   gt_lab=np.array([1, 1, 0]), pts=np.array([2.0, 7.5]),
                   pt_lab=np.array([1, 0]))
    draw_track(axes, Track('GT run', 'gt', 1, 1.0), 2.5, 3.0, False, scene)
    # class 1 only; a zero-length segment keeps 1 ms; 0.76 units tall
    assert _bars(axes) == pytest.approx(
        np.array([[1, 3, 2.12, 2.88], [5, 5.001, 2.12, 2.88]]))
    (line, ) = axes.lines
    assert line.get_xdata().tolist() == [2.0]
    assert line.get_ydata().tolist() == [2.5]


def test_prediction_boxes_lanes_and_scores(axes):
    segs = np.array([[0.0, 0.5], [10.0, 12.0], [10.5, 11.0]])
    scene = _scene(pred_sets=OrderedDict(
        pred=(segs, np.array([0, 0, 0]), np.array([1.0, 2.0, 3.0]))))
    payload = ('pred', 0, np.array([0, 1, 2]), np.array([0, 0, 1]))
    draw_track(axes, Track('pred walk', 'pred', payload, 2.0), 2.0, 3.0,
               False, scene)
    # lane k of a track whose top is 3: centred at 3 - (k + 0.5)
    assert _bars(axes)[:, 2:] == pytest.approx(
        np.array([[2.16, 2.84], [2.16, 2.84], [1.16, 1.84]]))
    assert [c.get_alpha() for c in axes.collections] == pytest.approx(
        [0.35, 0.675, 1.0])
    texts = [(t.get_position(), t.get_text()) for t in axes.texts]
    # the first label moved inwards to half a label width (1 s)
    assert texts == [((1.0, 2.5), '1.00'), ((11.0, 2.5), '2.00'),
                     ((10.75, 1.5), '3.00')]
    # not the last track: a separator at its bottom (3 - 2 units)
    (line, ) = axes.lines
    assert list(line.get_ydata()) == [1.0, 1.0]
    draw_track(axes, Track('pred walk', 'pred', payload, 2.0), 2.0, 3.0,
               True, scene)
    assert len(axes.lines) == 1


def test_pseudo_snippets(axes):
    scene = _scene()
    flags = np.zeros((4, 2))
    flags[1, 1] = flags[3, 0] = 1
    draw_track(axes, Track('pseudo action', 'act',
                           dict(flags=flags, sec=0.5), 1.0), 1.5, 2.0, True,
               scene)
    assert _bars(axes) == pytest.approx(
        np.array([[0.5, 1.0, 1.2, 1.8], [1.5, 2.0, 1.2, 1.8]]))
    # [T, C] flags: the class colour; [T] flags: green
    assert axes.collections[0].get_facecolor()[0] == pytest.approx(
        scene.colors[1])
    axes.cla()
    draw_track(axes, Track('pseudo action', 'act',
                           dict(flags=[0, 1], sec=1.0), 1.0), 0.5, 1.0, True,
               scene)
    from matplotlib.colors import to_rgba
    assert axes.collections[0].get_facecolor()[0] == pytest.approx(
        to_rgba('tab:green'))
    axes.cla()
    draw_track(axes, Track('pseudo bg', 'bg',
                           dict(flags=[1, 0, 1], sec=2.0), 1.0), 0.5, 1.0,
               True, scene)
    assert _bars(axes) == pytest.approx(
        np.array([[0, 2, 0.2, 0.8], [4, 6, 0.2, 0.8]]))


def test_proposals_lanes_known_answer(axes):
    colors = class_colors(2)
    segs = [[0.0, 10.0], [1.0, 9.0], [2.0, 8.0]]
    # three nested proposals in a 2.4-unit track centred at 1.2: three lanes
    # of 0.9 * 2.4 / 3 = 0.72, from 1.2 - 0.45 * 2.4 = 0.12 up, each bar
    # 80 % of its lane
    draw_proposals(axes, 1.2, 2.4, ('PP', (segs, [0, 1, 1])), colors)
    bars = _bars(axes)
    lh = 0.72
    assert bars[:, 2] == pytest.approx(0.12 + np.arange(3) * lh + 0.1 * lh)
    assert bars[:, 3] - bars[:, 2] == pytest.approx([0.8 * lh] * 3)
    assert [c.get_alpha() for c in axes.collections] == [0.6] * 3
    # at most 8 lanes: a ninth nested proposal goes to the lane that frees
    # first (the eighth, the innermost)
    axes.cla()
    draw_proposals(axes, 1.2, 2.4,
                   ('NP', ([[i, 20 - i] for i in range(9)], None)), colors)
    bars = _bars(axes)
    assert bars[-1, 2] == pytest.approx(bars[7, 2])
    assert bars[1, 3] - bars[1, 2] == pytest.approx(0.8 * 0.9 * 2.4 / 8)
