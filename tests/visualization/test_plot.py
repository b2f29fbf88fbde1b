"""hrpro_plugin.visualization.plot (and the figure it assembles): every
score readable, side by side, titles, legend and score note."""
import itertools

import numpy as np
import pytest

from hrpro_plugin.visualization import (GENERIC_SCORE_NOTE,
                                        HRPRO_SCORE_NOTE, plot_localization,
                                        plot_video)


def _overlapping_predictions():
    # one class: a whole-video box, short boxes inside it, two short boxes
    # that do not overlap but whose labels would (0.1 s apart)
    segs = np.array([[0, 60], [10, 12], [10.5, 13], [11, 14], [30, 31],
                     [30.2, 31.5], [45, 50], [20, 20.4], [20.5, 20.9]],
                    dtype=float)
    scores = np.array([0.96, 0.66, 1.31, 0.70, 1.52, 0.40, 1.02, 0.81, 0.79])
    return segs, np.zeros(len(segs), dtype=int), scores


def _score_texts(fig):
    ax = fig.axes[0]
    return [t for t in ax.texts if t.get_text().replace('.', '').isdigit()]


def test_plot_video_keeps_every_score_readable(tmp_path, figures,
                                               png_size):
    segs, labels, scores = _overlapping_predictions()
    out = tmp_path / 'v.png'
    size = plot_video('v', [[9, 14], [29, 32]], [0, 0],
                      (segs, labels, scores), ['walk'], str(out),
                      duration=60.0, width=10, dpi=80)
    assert png_size(out) == size and size[0] == 800
    fig = figures[-1]
    texts = _score_texts(fig)
    assert sorted(t.get_text() for t in texts) == sorted(
        f'{x:.2f}' for x in scores)
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in texts]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), 'two score labels collide'
    # the text is larger than the old 6 pt
    assert all(t.get_fontsize() >= 8 for t in texts)
    # title: no points given -> nothing about points; the legend note says
    # what a score is
    assert fig.axes[0].get_title() == 'v | 2 GT | top-9 predictions'
    notes = [t.get_text() for t in fig.texts]
    assert HRPRO_SCORE_NOTE in notes and 'exceed 1' in HRPRO_SCORE_NOTE
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[0] == 'ground truth' and 'number = score' in legend[1]

    # the same boxes without overlaps need one lane: a shorter figure
    flat = plot_video('v', [], [], (segs[[0]], labels[[0]], scores[[0]]),
                      ['walk'], str(tmp_path / 'flat.png'), duration=60.0,
                      width=10, dpi=80)
    assert flat[1] < size[1]


def test_plot_video_side_by_side(tmp_path, figures):
    segs, labels, scores = _overlapping_predictions()
    one = plot_video('v', [[9, 14]], [0], (segs, labels, scores),
                     ['walk', 'run'], str(tmp_path / 'one.png'),
                     duration=60.0, width=10, dpi=80)
    two = plot_video('v', [[9, 14]], [0],
                     {'ours': (segs, labels, scores),
                      'theirs': dict(segments=segs[:2], labels=[1, 1],
                                     scores=[0.5, 0.4])},
                     ['walk', 'run'], str(tmp_path / 'two.png'),
                     duration=60.0, points=[], point_labels=[],
                     score_note=GENERIC_SCORE_NOTE, width=10, dpi=80)
    assert two[0] == one[0] and two[1] > one[1]
    ax = figures[-1].axes[0]
    rows = [t.get_text() for t in ax.get_yticklabels()]
    # each class: its ground truth, then one track a method
    assert rows == ['GT walk', 'ours: walk', 'theirs: walk', 'GT run',
                    'ours: run', 'theirs: run']
    assert ax.get_title() == ('v | 1 GT | no point labels | top-9 / 2 '
                              'predictions | ours vs theirs')
    assert GENERIC_SCORE_NOTE in [t.get_text() for t in figures[-1].texts]
    with pytest.raises(ValueError, match='points'):
        plot_video('v', [], [], (segs, labels, scores), ['walk'],
                   str(tmp_path / 'x.png'), points=[1.0])


def test_plot_localization_title_and_lanes(tmp_path, figures):
    segs, labels, scores = _overlapping_predictions()
    kwargs = dict(video='v', classes=['walk'], snippet_seconds=1.0,
                  gt_segments=[[9, 14]], gt_labels=[0],
                  pred_segments=segs, pred_labels=labels, pred_scores=scores,
                  fused_cas=np.full((60, 1), 0.5), attn=np.full(60, 0.5),
                  width=10, dpi=60)
    plot_localization(str(tmp_path / 'a.png'), points=None, **kwargs)
    assert figures[-1].axes[0].get_title() == 'v | 1 GT | top-9 predictions'
    plot_localization(str(tmp_path / 'b.png'), points=np.zeros(0),
                      point_labels=np.zeros(0), **kwargs)
    title = figures[-1].axes[0].get_title()
    assert 'no point labels' in title and '0 points' not in title
    texts = _score_texts(figures[-1])
    renderer = figures[-1].canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in texts]
    assert len(boxes) == 9
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)


def test_labels_at_the_video_ends_stay_inside_and_apart(tmp_path, figures):
    # tiny boxes at both ends: labels shifted inwards, still in lanes
    segs = np.array([[0, 0.2], [0.3, 0.5], [59.6, 59.8], [59.85, 60]])
    scores = np.array([1.25, -0.12, 0.5, 0.75])
    plot_video('v', [], [], (segs, np.zeros(4, dtype=int), scores), ['walk'],
               str(tmp_path / 'v.png'), duration=60.0, width=10, dpi=80)
    fig = figures[-1]
    renderer = fig.canvas.get_renderer()
    ax_box = fig.axes[0].get_window_extent(renderer)
    texts = [t for t in fig.axes[0].texts
             if t.get_text() in ('1.25', '-0.12', '0.50', '0.75')]
    assert len(texts) == 4
    boxes = [t.get_window_extent(renderer) for t in texts]
    for b in boxes:
        assert ax_box.x0 <= b.x0 and b.x1 <= ax_box.x1
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)


def test_plot_localization_tracks_curves_and_legend(tmp_path, figures):
    rng = np.random.default_rng(0)
    T = 30
    plot_localization(
        str(tmp_path / 'm.png'), video='v', classes=['walk', 'run'],
        snippet_seconds=0.5, gt_segments=[[1, 3]], gt_labels=[1],
        points=[2.0], point_labels=[1], pred_segments=[[1, 3], [4, 6]],
        pred_labels=[1, 0], pred_scores=[0.9, 0.3],
        fused_cas=rng.uniform(size=(T, 2)), attn=rng.uniform(size=T),
        pseudo_background=np.arange(T) % 2 == 0,
        proposals={'NP': ([[10.0, 12.0]], None), 'RP': ([[1.0, 3.0]], [1])},
        width=8, dpi=40)
    fig = figures[-1]
    tracks, curves = fig.axes
    # classes: ground truth and points first, then the predictions'; the
    # mining rows in the order pseudo bg, RP, PP, NP
    assert [t.get_text() for t in tracks.get_yticklabels()] == [
        'GT run', 'pred run', 'GT walk', 'pred walk', 'pseudo bg', 'RP',
        'NP']
    assert tracks.get_title() == ('v | 1 GT | 1 point | top-2 predictions '
                                  '| training mining')
    assert curves.get_xlim() == (0, 15.0)  # T snippets of 0.5 s
    assert [t.get_text() for t in curves.get_legend().get_texts()] == [
        'CAS run', 'CAS walk', 'attention']
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:2] == ['ground truth', 'point label']


def test_plot_video_without_points_or_note(tmp_path, figures):
    plot_video('v', [[1, 2]], [0], ([[1, 2]], [0], [0.5]), ['walk'],
               str(tmp_path / 'v.png'), score_note=None, title='my title',
               width=6, dpi=40)
    fig = figures[-1]
    assert fig.axes[0].get_title() == 'my title'
    assert fig.texts == []
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert 'point label' not in legend
    # duration: the last end drawn, at least 1 s
    assert fig.axes[0].get_xlim() == (0, 2.0)
