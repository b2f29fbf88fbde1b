"""Assembling one video's figure from its parts and saving it as PNG.

Layout (x axis in seconds, shared): the track panel (:mod:`.layout`,
:mod:`.tracks`), in model mode the curve panel (the fused CAS of the shown
classes and the attention), under them a legend of the marks and the line
saying what a score is.
"""
from typing import Mapping, Optional, Sequence, Tuple

from .backend import require_matplotlib
from .layout import (FOOT_IN, HEAD_IN, RIGHT_IN, build_tracks,
                     figure_height, left_margin, score_label_width,
                     track_labels, track_positions)
from .style import TRACK_FONT, class_colors
from .tracks import Scene, draw_track


def _draw_track_panel(ax, tracks, total: float, scene: Scene, title: str):
    """Every track, the track names as y ticks, the x range and the
    title."""
    _, tops, centres = track_positions([t.units for t in tracks])
    for i, track in enumerate(tracks):
        draw_track(ax, track, float(centres[i]), float(tops[i]),
                   i + 1 == len(tracks), scene)
    ax.set_yticks(centres)
    ax.set_yticklabels([t.label for t in tracks], fontsize=TRACK_FONT)
    ax.set_ylim(0, total)
    ax.set_xlim(0, scene.duration)
    ax.grid(axis='x', alpha=0.3)
    ax.set_title(title, fontsize=10.5)


def _draw_curve_panel(fig, cell, ax, curves, shown: Sequence[int],
                      scene: Scene):
    """The CAS of the ``shown`` classes and the attention under the
    tracks (sharing their x axis); ``curves``: ``(x, cas or None, attn or
    None)``. Returns the new axes."""
    x, cas, att = curves
    ax.tick_params(labelbottom=False)
    ax2 = fig.add_subplot(cell, sharex=ax)
    if cas is not None:
        for c in shown:
            ax2.plot(x, cas[:, c], color=scene.colors[c], linewidth=1.2,
                     label=f'CAS {scene.classes[c]}')
    if att is not None:
        ax2.plot(x, att, 'k--', linewidth=1.0, label='attention')
    ax2.set_ylim(-0.02, 1.02)
    ax2.set_ylabel('score', fontsize=8)
    ax2.grid(alpha=0.3)
    ax2.legend(loc='upper right', fontsize=7, ncol=4, framealpha=0.8)
    ax2.set_xlim(0, scene.duration)
    return ax2


def _draw_footer(fig, has_points: bool, score_note: Optional[str],
                 left: float, height_in: float):
    """The legend of the marks and the score note, under the axes;
    ``left``: the axes' left edge (figure fraction)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    handles = [Patch(facecolor='0.45', label='ground truth')]
    if has_points:
        handles.append(Line2D([], [], marker='v', color='k', linestyle='',
                              label='point label'))
    handles.append(Patch(facecolor='0.6', edgecolor='k',
                         label='prediction: number = score, darker = higher '
                         'in its set; overlapping boxes in separate lanes'))
    fig.legend(handles=handles, loc='lower left', ncol=len(handles),
               fontsize=8, frameon=False,
               bbox_to_anchor=(left - 0.01, 0.22 / height_in))
    if score_note:
        fig.text(left, 0.08 / height_in, score_note, fontsize=8, ha='left',
                 va='bottom', color='0.25')


def draw_video(out_file: str, *, classes: Sequence[str], duration: float,
               gt_seg, gt_lab, pts, pt_lab,
               pred_sets: Mapping[str, tuple], shown: Sequence[int],
               title: str, score_note: Optional[str], width: float,
               dpi: int, curves=None, mining_rows=()) -> Tuple[int, int]:
    """The shared drawing of :func:`~.plot.plot_localization` and
    :func:`~.plot.plot_video`; arrays as those make them.

    ``pred_sets``: ``{name: (segs, labels, scores)}``, already cut to the
    top-k; ``curves``: ``(x, cas or None, attn or None)`` or None;
    ``mining_rows``: ``[(label, kind, payload)]`` (:class:`.layout.Track`).
    Returns ``(width_px, height_px)`` of the saved PNG.
    """
    Figure, FigureCanvasAgg = require_matplotlib()
    from matplotlib import patheffects
    duration = float(duration) if duration and duration > 0 else 1.0
    left_in = left_margin(track_labels(classes, shown, list(pred_sets),
                                       mining_rows))
    label_w = score_label_width([sc for _, _, sc in pred_sets.values()],
                                duration, width, left_in)
    tracks = build_tracks(classes, shown, pred_sets, label_w, duration,
                          mining_rows)
    total = track_positions([t.units for t in tracks])[0]
    track_in, curve_in, height = figure_height(total, curves is not None)
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    ratios = [track_in] + ([curve_in] if curves is not None else [])
    gs = fig.add_gridspec(len(ratios), 1, height_ratios=ratios, hspace=0.08,
                          left=left_in / width, right=1 - RIGHT_IN / width,
                          top=1 - HEAD_IN / height, bottom=FOOT_IN / height)
    scene = Scene(classes, class_colors(len(classes)), duration, label_w,
                  gt_seg, gt_lab, pts, pt_lab, pred_sets,
                  [patheffects.withStroke(linewidth=2.2, foreground='white')])
    ax = fig.add_subplot(gs[0])
    _draw_track_panel(ax, tracks, total, scene, title)
    last = ax
    if curves is not None:
        last = _draw_curve_panel(fig, gs[1], ax, curves, shown, scene)
    last.set_xlabel('time (s)', fontsize=9)
    _draw_footer(fig, bool(len(pts)), score_note, left_in / width, height)
    fig.savefig(out_file, dpi=dpi, format='png')
    w, h = fig.canvas.get_width_height()
    return int(w), int(h)
