"""Where things go on a video figure: lanes, tracks and their heights, the
margins and the panels' sizes (inches). Pure NumPy, no matplotlib.

The top panel is a stack of **tracks** (one a row, the first at the top),
measured in *units* (a ground-truth track is one unit; the y axis runs from
0 at the bottom to the total at the top). A prediction track has one lane
(one unit) per set of non-overlapping boxes (:func:`assign_lanes`).
"""
from typing import List, Mapping, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from .arrays import as_array
from .style import SCORE_FONT, TRACK_FONT

LANE_UNITS = 1.0  # a lane is as tall as a ground-truth track
GT_UNITS = 1.0
MINING_UNITS = 1.0  # pseudo action / pseudo bg
PROPOSAL_UNITS = 2.4  # RP / PP / NP (up to 8 lanes inside)
PROPOSAL_LANES = 8
# inches: the title above, the right margin, the curve panel, under the axes
# the x label (0.5) and the legend with the score note (0.55)
HEAD_IN = 0.45
RIGHT_IN = 0.2
CURVES_IN = 2.4
FOOT_IN = 0.5 + 0.55


class Track(NamedTuple):
    """One row of the top panel.

    ``kind`` and ``payload``: ``'gt'``: the class; ``'pred'``: ``(set
    name, class, indices into the set, lane of each)``; ``'act'`` /
    ``'bg'``: ``dict(flags=..., sec=...)``; ``'prop'``: ``(key, (segments,
    labels or None))``.
    """
    label: str
    kind: str
    payload: object
    units: float


def assign_lanes(segments, pad: float = 0.0,
                 max_lanes: Optional[int] = None) -> np.ndarray:
    """Lane of each interval so that no two intervals of a lane overlap.

    Interval-graph greedy: intervals by start (stable), each into the
    lowest-numbered lane whose last end is ``<=`` its start (touching is
    allowed), else a new lane. This uses the fewest lanes possible (the
    largest number of intervals sharing a point). With ``max_lanes``, an
    interval that finds no free lane once all exist goes to the lane that
    frees first (it then overlaps there).

    Args:
        segments: ``[N, 2]`` (start, end).
        pad: each interval is widened by ``pad`` on both sides first (room
            for a label).

    Returns:
        ``[N]`` int64 lanes, 0-based.

    Example: ``[0, 5], [1, 2], [3, 4], [6, 7]`` -> ``[0, 1, 1, 0]``.
    """
    segs = as_array(segments, (2, ))
    lanes = np.zeros(len(segs), dtype=np.int64)
    ends: List[float] = []
    for j in np.argsort(segs[:, 0], kind='stable'):
        s, e = segs[j, 0] - pad, segs[j, 1] + pad
        k = next((i for i, end in enumerate(ends) if end <= s), None)
        if k is None:
            if max_lanes is None or len(ends) < max_lanes:
                ends.append(-np.inf)
                k = len(ends) - 1
            else:
                k = int(np.argmin(ends))
        ends[k] = max(ends[k], e)
        lanes[j] = k
    return lanes


def num_lanes(lanes: np.ndarray) -> int:
    """Lanes used (at least one, for an empty track)."""
    return int(lanes.max()) + 1 if lanes.size else 1


def pred_track_label(set_name: str, class_name: str, many: bool) -> str:
    """``pred <class>``, or ``<set>: <class>`` with several sets."""
    return f'{set_name}: {class_name}' if many else f'pred {class_name}'


def track_labels(classes: Sequence[str], shown: Sequence[int],
                 set_names: Sequence[str], mining_rows=()) -> List[str]:
    """Every track name of the top panel (for the left margin)."""
    many = len(set_names) > 1
    return [f'GT {classes[c]}' for c in shown] + [
        pred_track_label(n, classes[c], many)
        for c in shown for n in set_names] + [r[0] for r in mining_rows]


def left_margin(labels: Sequence[str]) -> float:
    """Inches left of the axes: the longest track name at
    :data:`TRACK_FONT` (~0.6 em a character) plus 0.3, at least 1.3."""
    return max(1.3, 0.6 * TRACK_FONT / 72 *
               max([len(n) for n in labels] + [0]) + 0.3)


def score_label_width(score_sets: Sequence[np.ndarray], duration: float,
                      width: float, left_in: float) -> float:
    """Seconds a score label needs on the x axis: its characters (at least
    4, ``0.00``) at :data:`SCORE_FONT`, ~0.6 em each, at the axes' width
    (figure ``width`` less the margins, in inches)."""
    axes_in = max(width - left_in - RIGHT_IN, 1.0)
    sec_per_in = duration / axes_in
    chars = max([len(f'{x:.2f}') for sc in score_sets for x in sc] + [4])
    return (chars + 0.2) * 0.6 * SCORE_FONT / 72 * sec_per_in


def label_centres(segs: np.ndarray, label_w: float,
                  duration: float) -> np.ndarray:
    """x of each box's score label: the box centre, moved inwards so the
    label (``label_w`` s wide) stays inside ``[0, duration]``."""
    return np.clip((segs[:, 0] + segs[:, 1]) / 2, label_w / 2,
                   max(duration - label_w / 2, label_w / 2))


def prediction_lanes(segs: np.ndarray, label_w: float,
                     duration: float) -> np.ndarray:
    """Lanes of one track's boxes, each box counted with its score label
    and a gap of ``0.15 * label_w`` either side."""
    mid = label_centres(segs, label_w, duration)
    return assign_lanes(
        np.stack([np.minimum(segs[:, 0], mid - label_w / 2),
                  np.maximum(segs[:, 1], mid + label_w / 2)], -1),
        pad=0.15 * label_w)


def build_tracks(classes: Sequence[str], shown: Sequence[int],
                 pred_sets: Mapping[str, tuple], label_w: float,
                 duration: float, mining_rows=()) -> List[Track]:
    """The top panel's tracks: for each shown class its ground truth, then
    one prediction track a set; then the mining rows
    (``[(label, kind, payload)]``)."""
    many = len(pred_sets) > 1
    tracks: List[Track] = []
    for c in shown:
        tracks.append(Track(f'GT {classes[c]}', 'gt', c, GT_UNITS))
        for name, (segs, labs, _) in pred_sets.items():
            sel = np.flatnonzero(labs == c)
            lanes = prediction_lanes(segs[sel], label_w, duration)
            tracks.append(Track(pred_track_label(name, classes[c], many),
                                'pred', (name, c, sel, lanes),
                                num_lanes(lanes) * LANE_UNITS))
    for label, kind, payload in mining_rows:
        tracks.append(Track(label, kind, payload, PROPOSAL_UNITS
                            if kind == 'prop' else MINING_UNITS))
    return tracks


def track_positions(units: Sequence[float]
                    ) -> Tuple[float, np.ndarray, np.ndarray]:
    """``(total, tops, centres)`` of tracks ``units`` tall, stacked from the
    top of a ``[0, total]`` axis (an empty stack is 1 unit tall)."""
    units = np.asarray(units, dtype=np.float64)
    total = float(units.sum()) if len(units) else 1.0
    tops = total - np.concatenate([[0.0], np.cumsum(units)[:-1]])
    return total, tops, tops - units / 2


def figure_height(total_units: float,
                  with_curves: bool) -> Tuple[float, float, float]:
    """``(track_in, curve_in, height)`` in inches: the track panel (0.3 in a
    unit plus 0.3), the curve panel, and the whole figure (with
    :data:`HEAD_IN` and :data:`FOOT_IN`)."""
    track_in = 0.3 * total_units + 0.3
    curve_in = CURVES_IN if with_curves else 0.0
    return track_in, curve_in, HEAD_IN + track_in + curve_in + FOOT_IN
