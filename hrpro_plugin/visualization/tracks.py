"""Drawing one track of the top panel, one function a kind: ground truth
with its points, one prediction set's boxes with their scores, the mining
rows (pseudo action / background snippets, RP / PP / NP proposals).

Each draws into the tracks' axes (``x`` seconds, ``y`` in track units, see
:mod:`.layout`); ``y`` is the track's centre and ``top`` its upper edge.
"""
from typing import Mapping, NamedTuple, Sequence

import numpy as np

from .arrays import as_array, to_numpy
from .layout import (LANE_UNITS, PROPOSAL_LANES, Track, assign_lanes,
                     label_centres, num_lanes)
from .style import SCORE_FONT, opacity

_MIN_WIDTH = 1e-3  # seconds: a zero-length segment stays visible
_PROPOSAL_ALPHA = dict(RP=1.0, PP=0.6, NP=0.8)


class Scene(NamedTuple):
    """What the tracks of one figure draw from.

    ``pred_sets``: ``{name: (segments, labels, scores)}``, already cut to
    the top-k; ``label_w``: seconds a score label takes; ``stroke``: the
    path effect behind a score.
    """
    classes: Sequence[str]
    colors: Sequence
    duration: float
    label_w: float
    gt_seg: np.ndarray
    gt_lab: np.ndarray
    pts: np.ndarray
    pt_lab: np.ndarray
    pred_sets: Mapping[str, tuple]
    stroke: list


def draw_ground_truth(ax, y: float, c: int, scene: Scene):
    """Class ``c``'s segments as bars and its point labels as triangles."""
    sel = scene.gt_lab == c
    ax.broken_barh([(s, max(e - s, _MIN_WIDTH))
                    for s, e in scene.gt_seg[sel]], (y - 0.38, 0.76),
                   facecolors=scene.colors[c], edgecolors='none')
    psel = scene.pt_lab == c
    if psel.any():
        ax.plot(scene.pts[psel], np.full(psel.sum(), y), 'v', color='k',
                markersize=6, zorder=3)


def draw_predictions(ax, top: float, payload, scene: Scene):
    """One set's boxes of one class, each in its lane, darker the higher
    its score in the set, its score on it (kept inside the axes)."""
    name, c, sel, lanes = payload
    segs, _, scores = scene.pred_sets[name]
    alpha = opacity(scores)
    xts = label_centres(segs[sel], scene.label_w, scene.duration)
    for j, lane, xt in zip(sel, lanes, xts):
        s, e = segs[j]
        yc = top - (lane + 0.5) * LANE_UNITS
        ax.broken_barh([(s, max(e - s, _MIN_WIDTH))], (yc - 0.34, 0.68),
                       facecolors=scene.colors[c], alpha=float(alpha[j]),
                       edgecolors='k', linewidth=0.6)
        ax.text(float(xt), yc, f'{scores[j]:.2f}', ha='center',
                va='center', fontsize=SCORE_FONT, path_effects=scene.stroke,
                zorder=4, clip_on=True)


def draw_pseudo_action(ax, y: float, payload, scene: Scene):
    """Pseudo action snippets: ``flags`` ``[T]`` (green) or ``[T, C]``
    (the colour of the first flagged class)."""
    flags = np.asarray(to_numpy(payload['flags']), dtype=np.float64)
    sec = payload['sec']
    if flags.ndim == 1:
        flags = flags[:, None]
    for t in np.flatnonzero(flags.max(axis=1) > 0):
        cls = np.flatnonzero(flags[t] > 0)
        col = (scene.colors[int(cls[0])]
               if flags.shape[1] == len(scene.classes) else 'tab:green')
        ax.broken_barh([(t * sec, sec)], (y - 0.3, 0.6), facecolors=col,
                       edgecolors='white', linewidth=0.3)


def draw_pseudo_background(ax, y: float, payload):
    """Pseudo background snippets (grey): ``flags`` ``[T]``."""
    flags, sec = as_array(payload['flags']), payload['sec']
    ax.broken_barh([(t * sec, sec) for t in np.flatnonzero(flags > 0)],
                   (y - 0.3, 0.6), facecolors='0.55', edgecolors='white',
                   linewidth=0.3)


def draw_proposals(ax, y: float, units: float, payload, colors):
    """One proposal kind (RP / PP / NP) in up to
    :data:`~.layout.PROPOSAL_LANES` lanes inside the track, coloured by
    class (grey without labels)."""
    key, (segs, labs) = payload
    segs = as_array(segs, (2, ))
    labs = None if labs is None else as_array(labs, dtype=np.int64)
    lanes = assign_lanes(segs, max_lanes=PROPOSAL_LANES)
    lh = 0.9 * units / num_lanes(lanes)
    for j, (s, e) in enumerate(segs):
        col = colors[labs[j]] if labs is not None else '0.35'
        y0 = y - 0.45 * units + lanes[j] * lh
        ax.broken_barh([(s, max(e - s, _MIN_WIDTH))],
                       (y0 + 0.1 * lh, 0.8 * lh), facecolors=col,
                       edgecolors='none', alpha=_PROPOSAL_ALPHA[key])


def draw_track(ax, track: Track, y: float, top: float, last: bool,
               scene: Scene):
    """Draw ``track`` (centre ``y``, upper edge ``top``); a prediction
    track that is not the ``last`` gets a thin line under it."""
    if track.kind == 'gt':
        draw_ground_truth(ax, y, track.payload, scene)
    elif track.kind == 'pred':
        draw_predictions(ax, top, track.payload, scene)
        if not last:
            ax.axhline(top - track.units, color='0.85', linewidth=0.6,
                       zorder=0)
    elif track.kind == 'act':
        draw_pseudo_action(ax, y, track.payload, scene)
    elif track.kind == 'bg':
        draw_pseudo_background(ax, y, track.payload)
    elif track.kind == 'prop':
        draw_proposals(ax, y, track.units, track.payload, scene.colors)
