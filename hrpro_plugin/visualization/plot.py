"""Figures: one a video (ground truth, points, predictions, CAS, attention),
and the error-analysis summary of ``tools/analyze_errors.py``.

Video figure layout (x axis in seconds, shared):

* top panel, one track a row: for each relevant class ``GT <class>`` (ground
  truth segments as bars, point labels as triangles) and ``pred <class>``
  (the top-k predictions); with two or more prediction sets (side-by-side
  comparison) one ``<name>: <class>`` track per set under each ground-truth
  track. The predictions of a track are spread over **lanes** (interval
  greedy, :func:`assign_lanes`) so that no two boxes of a lane overlap,
  counting the room their score label needs, so every box and score stays
  readable. With training-mining data also ``pseudo action`` /
  ``pseudo bg`` snippets and the ``RP`` / ``PP`` / ``NP`` proposals;
* bottom panel (model mode only): the fused CAS (``S * A``) of the relevant
  classes and the class-agnostic attention ``A``;
* under the figure, a legend of the marks and a line saying what a score is.

matplotlib is imported inside the functions (the Agg canvas, no GUI and no
global backend switch); without it a clear ImportError says what to install.
"""
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = [
    'plot_localization', 'plot_video', 'plot_error_analysis',
    'require_matplotlib', 'relevant_classes', 'assign_lanes',
    'video_title', 'HRPRO_SCORE_NOTE', 'GENERIC_SCORE_NOTE'
]

#: What an HR-Pro score is (models/localizers/hrpro.py, docs/method.md).
HRPRO_SCORE_NOTE = (
    'HR-Pro score = OIC (fused CAS inside minus around the box, -1..1) + '
    'stage-2 completeness (0..1), after soft-NMS: it can exceed 1 '
    '(stage 1 alone: OIC)')
#: For a results file of unknown origin.
GENERIC_SCORE_NOTE = 'score as given in the results file (its method\'s ' \
    'scale)'

_SCORE_FONT = 8.5  # points, the number on a prediction box
_LANE_UNITS = 1.0  # a lane is as tall as a ground-truth track


def require_matplotlib():
    """Import matplotlib or raise an ImportError saying how to get it."""
    try:
        import matplotlib  # noqa: F401
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError(
            'hrpro_plugin.visualization needs matplotlib: '
            '`pip install matplotlib` (it is an optional dependency of '
            f'hrpro_plugin; import failed with: {err})') from None
    return Figure, FigureCanvasAgg


def _to_numpy(x):
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return x


def _arr(x, shape_tail=(), dtype=np.float64) -> np.ndarray:
    if x is None:
        return np.zeros((0, ) + tuple(shape_tail), dtype=dtype)
    return np.asarray(_to_numpy(x), dtype=dtype).reshape((-1, ) +
                                                         tuple(shape_tail))


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
    segs = _arr(segments, (2, ))
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


def relevant_classes(gt_labels=None, pred_labels=None, pred_scores=None,
                     point_labels=None, top_k: int = 10,
                     max_classes: int = 6) -> List[int]:
    """Classes worth drawing: those of the ground truth and points, then
    those of the top-k predictions (by score), at most ``max_classes``."""
    out: List[int] = []
    for c in list(_arr(gt_labels, dtype=np.int64)) + list(
            _arr(point_labels, dtype=np.int64)):
        if int(c) not in out:
            out.append(int(c))
    labels = _arr(pred_labels, dtype=np.int64)
    scores = _arr(pred_scores)
    if labels.size:
        order = np.argsort(-scores, kind='stable')[:top_k]
        for c in labels[order]:
            if int(c) not in out:
                out.append(int(c))
    return out[:max(max_classes, 1)]


def video_title(video: str, num_gt: int, points=None,
                num_predictions: Optional[Union[int, Sequence[int]]] = None,
                mining: bool = False) -> str:
    """``video | N GT | P points | top-k predictions``.

    ``points=None`` (unknown, e.g. a test set or a results-only plot) leaves
    the points out; an empty array says ``no point labels``.
    """
    parts = [str(video), f'{int(num_gt)} GT']
    if points is not None:
        n = len(_arr(points))
        parts.append(f'{n} point{"s" if n != 1 else ""}' if n else
                     'no point labels')
    if num_predictions is not None:
        if isinstance(num_predictions, (int, np.integer)):
            parts.append(f'top-{int(num_predictions)} predictions')
        else:
            n = sorted({int(x) for x in num_predictions})
            parts.append(f'top-{n[0]} predictions a set' if len(n) == 1 else
                         'top-' + ' / '.join(str(int(x))
                                             for x in num_predictions) +
                         ' predictions')
    if mining:
        parts.append('training mining')
    return ' | '.join(parts)


def _class_colors(num: int):
    from matplotlib import colormaps
    cmap = colormaps['tab10' if num <= 10 else 'tab20']
    return [cmap(i % cmap.N) for i in range(num)]


def _top(segs, labels, scores, top_k):
    segs, labels, scores = (_arr(segs, (2, )), _arr(labels, dtype=np.int64),
                            _arr(scores))
    if not segs.shape[0] == labels.size == scores.size:
        raise ValueError(f'predictions: {segs.shape[0]} segments, '
                         f'{labels.size} labels, {scores.size} scores')
    order = np.argsort(-scores, kind='stable')[:max(int(top_k), 0)]
    return segs[order], labels[order], scores[order]


def _opacity(scores: np.ndarray) -> np.ndarray:
    """0.35 (lowest drawn score) .. 1 (highest) of one prediction set."""
    if scores.size == 0:
        return scores
    lo, hi = float(scores.min()), float(scores.max())
    if hi - lo < 1e-12:
        return np.ones_like(scores)
    return 0.35 + 0.65 * (scores - lo) / (hi - lo)


def _draw_video(out_file: str, *, classes, duration: float, gt_seg, gt_lab,
                pts, pt_lab, pred_sets: 'OrderedDict[str, tuple]',
                shown: Sequence[int], title: str, score_note: Optional[str],
                width: float, dpi: int, curves=None, mining_rows=()
                ) -> Tuple[int, int]:
    """The shared drawing of :func:`plot_localization` and
    :func:`plot_video`. ``pred_sets``: ``{name: (segs, labels, scores)}``,
    already cut to the top-k; ``curves``: ``(x, cas or None, attn or None)``
    or None; ``mining_rows``: ``[(label, kind, payload)]``."""
    Figure, FigureCanvasAgg = require_matplotlib()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib import patheffects

    colors = _class_colors(len(classes))
    duration = float(duration) if duration and duration > 0 else 1.0
    many = len(pred_sets) > 1
    # left margin: the longest track name at 9 pt (~0.6 em a character)
    names = [f'GT {classes[c]}' for c in shown] + [
        (f'{n}: {classes[c]}' if many else f'pred {classes[c]}')
        for c in shown for n in pred_sets] + [r[0] for r in mining_rows]
    left_in = max(1.3, 0.6 * 9 / 72 * max([len(n) for n in names] + [0]) +
                  0.3)
    # room a score label needs, in seconds: ~0.6 em a character at the
    # axes' width (right margin 0.2 in)
    axes_in = max(width - left_in - 0.2, 1.0)
    sec_per_in = duration / axes_in
    chars = max([len(f'{x:.2f}') for _, _, sc in pred_sets.values()
                 for x in sc] + [4])
    label_w = (chars + 0.2) * 0.6 * _SCORE_FONT / 72 * sec_per_in
    lanes_of: Dict[Tuple[str, int], Tuple[np.ndarray, int]] = {}

    rows: List[Tuple[str, str, object, float]] = []  # label, kind, payload, h
    for c in shown:
        rows.append((f'GT {classes[c]}', 'gt', c, 1.0))
        for name, (segs, labs, _) in pred_sets.items():
            sel = np.flatnonzero(labs == c)
            s = segs[sel]
            # the box and its label (centred, kept inside the axes), plus
            # a gap
            mid = np.clip((s[:, 0] + s[:, 1]) / 2, label_w / 2,
                          max(duration - label_w / 2, label_w / 2))
            lanes = assign_lanes(
                np.stack([np.minimum(s[:, 0], mid - label_w / 2),
                          np.maximum(s[:, 1], mid + label_w / 2)], -1),
                pad=0.15 * label_w)
            n = int(lanes.max()) + 1 if lanes.size else 1
            lanes_of[(name, c)] = (lanes, n)
            label = f'{name}: {classes[c]}' if many else f'pred {classes[c]}'
            rows.append((label, 'pred', (name, c), n * _LANE_UNITS))
    for label, kind, payload in mining_rows:
        rows.append((label, kind, payload, 2.4 if kind == 'prop' else 1.0))

    units = np.asarray([r[3] for r in rows], dtype=np.float64)
    total = float(units.sum()) if rows else 1.0
    tops = total - np.concatenate([[0.0], np.cumsum(units)[:-1]])
    centres = tops - units / 2

    # heights in inches: title, tracks, curves, x label, legend + note
    head_in, track_in = 0.45, 0.3 * total + 0.3
    curve_in = 2.4 if curves is not None else 0.0
    foot_in = 0.5 + 0.55
    height = head_in + track_in + curve_in + foot_in
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    ratios = [track_in] + ([curve_in] if curves is not None else [])
    gs = fig.add_gridspec(len(ratios), 1, height_ratios=ratios, hspace=0.08,
                          left=left_in / width, right=1 - 0.2 / width,
                          top=1 - head_in / height, bottom=foot_in / height)
    ax = fig.add_subplot(gs[0])
    stroke = [patheffects.withStroke(linewidth=2.2, foreground='white')]
    for i, (label, kind, payload, h) in enumerate(rows):
        y, top = float(centres[i]), float(tops[i])
        if kind == 'gt':
            c = payload
            sel = gt_lab == c
            ax.broken_barh([(s, max(e - s, 1e-3)) for s, e in gt_seg[sel]],
                           (y - 0.38, 0.76), facecolors=colors[c],
                           edgecolors='none')
            psel = pt_lab == c
            if psel.any():
                ax.plot(pts[psel], np.full(psel.sum(), y), 'v', color='k',
                        markersize=6, zorder=3)
        elif kind == 'pred':
            name, c = payload
            segs, labs, scores = pred_sets[name]
            sel = np.flatnonzero(labs == c)
            alpha = _opacity(scores)
            lanes, _ = lanes_of[(name, c)]
            for j, lane in zip(sel, lanes):
                s, e = segs[j]
                yc = top - (lane + 0.5) * _LANE_UNITS
                ax.broken_barh([(s, max(e - s, 1e-3))], (yc - 0.34, 0.68),
                               facecolors=colors[c], alpha=float(alpha[j]),
                               edgecolors='k', linewidth=0.6)
                # centred on the box, kept inside the axes
                xt = min(max((s + e) / 2, label_w / 2),
                         max(duration - label_w / 2, label_w / 2))
                ax.text(float(xt), yc,
                        f'{scores[j]:.2f}', ha='center', va='center',
                        fontsize=_SCORE_FONT, path_effects=stroke, zorder=4,
                        clip_on=True)
            if i + 1 < len(rows):
                ax.axhline(top - h, color='0.85', linewidth=0.6, zorder=0)
        elif kind == 'act':
            flags = np.asarray(_to_numpy(payload['flags']), dtype=np.float64)
            sec = payload['sec']
            if flags.ndim == 1:
                flags = flags[:, None]
            for t in np.flatnonzero(flags.max(axis=1) > 0):
                cls = np.flatnonzero(flags[t] > 0)
                col = (colors[int(cls[0])] if flags.shape[1] == len(classes)
                       else 'tab:green')
                ax.broken_barh([(t * sec, sec)], (y - 0.3, 0.6),
                               facecolors=col, edgecolors='white',
                               linewidth=0.3)
        elif kind == 'bg':
            flags, sec = _arr(payload['flags']), payload['sec']
            ax.broken_barh([(t * sec, sec) for t in np.flatnonzero(flags > 0)],
                           (y - 0.3, 0.6), facecolors='0.55',
                           edgecolors='white', linewidth=0.3)
        elif kind == 'prop':
            key, (segs, labs) = payload
            segs = _arr(segs, (2, ))
            labs = None if labs is None else _arr(labs, dtype=np.int64)
            lanes = assign_lanes(segs, max_lanes=8)
            num_lanes = int(lanes.max()) + 1 if lanes.size else 1
            lh = 0.9 * h / num_lanes
            for j, (s, e) in enumerate(segs):
                col = colors[labs[j]] if labs is not None else '0.35'
                y0 = y - 0.45 * h + lanes[j] * lh
                ax.broken_barh([(s, max(e - s, 1e-3))], (y0 + 0.1 * lh,
                                                         0.8 * lh),
                               facecolors=col, edgecolors='none',
                               alpha=dict(RP=1.0, PP=0.6, NP=0.8)[key])
    ax.set_yticks(centres)
    ax.set_yticklabels([r[0] for r in rows], fontsize=9)
    ax.set_ylim(0, total)
    ax.set_xlim(0, duration)
    ax.grid(axis='x', alpha=0.3)
    ax.set_title(title, fontsize=10.5)
    last = ax
    if curves is not None:
        x, cas, att = curves
        ax.tick_params(labelbottom=False)
        ax2 = fig.add_subplot(gs[1], sharex=ax)
        if cas is not None:
            for c in shown:
                ax2.plot(x, cas[:, c], color=colors[c], linewidth=1.2,
                         label=f'CAS {classes[c]}')
        if att is not None:
            ax2.plot(x, att, 'k--', linewidth=1.0, label='attention')
        ax2.set_ylim(-0.02, 1.02)
        ax2.set_ylabel('score', fontsize=8)
        ax2.grid(alpha=0.3)
        ax2.legend(loc='upper right', fontsize=7, ncol=4, framealpha=0.8)
        ax2.set_xlim(0, duration)
        last = ax2
    last.set_xlabel('time (s)', fontsize=9)

    handles = [Patch(facecolor='0.45', label='ground truth')]
    if len(pts):
        handles.append(Line2D([], [], marker='v', color='k', linestyle='',
                              label='point label'))
    handles.append(Patch(facecolor='0.6', edgecolor='k',
                         label='prediction: number = score, darker = higher '
                         'in its set; overlapping boxes in separate lanes'))
    fig.legend(handles=handles, loc='lower left', ncol=len(handles),
               fontsize=8, frameon=False,
               bbox_to_anchor=(left_in / width - 0.01, 0.22 / height))
    if score_note:
        fig.text(left_in / width, 0.08 / height, score_note, fontsize=8,
                 ha='left', va='bottom', color='0.25')
    fig.savefig(out_file, dpi=dpi, format='png')
    w, h = fig.canvas.get_width_height()
    return int(w), int(h)


def plot_localization(out_file: str,
                      *,
                      video: str,
                      classes: Sequence[str],
                      snippet_seconds: float,
                      duration: Optional[float] = None,
                      gt_segments=None,
                      gt_labels=None,
                      points=None,
                      point_labels=None,
                      pred_segments=None,
                      pred_labels=None,
                      pred_scores=None,
                      top_k: int = 10,
                      fused_cas=None,
                      attn=None,
                      show_classes: Optional[Sequence[int]] = None,
                      pseudo_action=None,
                      pseudo_background=None,
                      proposals: Optional[Dict[str, Tuple]] = None,
                      width: float = 12.0,
                      dpi: int = 100,
                      title: Optional[str] = None,
                      score_note: Optional[str] = HRPRO_SCORE_NOTE
                      ) -> Tuple[int, int]:
    """Draw one video with the model's curves and save it as PNG.

    Args:
        out_file: PNG path (parent folder must exist).
        video: name shown in the title.
        classes: class names (label ``i`` is ``classes[i]``).
        snippet_seconds: seconds a snippet covers (x of snippet ``t`` is
            ``(t + 0.5) * snippet_seconds`` for curves).
        duration: video length in seconds (x range); default from the CAS.
        gt_segments, gt_labels: ``[N, 2]`` seconds, ``[N]``.
        points, point_labels: point times in seconds ``[P]``, labels ``[P]``;
            ``points=None`` leaves points out of the title (test sets), an
            empty array makes it say "no point labels".
        pred_segments, pred_labels, pred_scores: predictions; the ``top_k``
            best are drawn.
        fused_cas: ``[T, C]`` fused CAS; attn: ``[T]`` attention.
        show_classes: classes to draw; default :func:`relevant_classes`.
        pseudo_action: ``[T]`` or ``[T, C]`` pseudo action snippets;
            pseudo_background: ``[T]`` bool.
        proposals: ``{'RP': (segments [N, 2] s, labels [N]), 'PP': ...,
            'NP': (segments, None)}``.
        width, dpi: figure width (inches) and resolution.
        title: replaces :func:`video_title`.
        score_note: the line under the legend saying what a score is.

    Returns:
        ``(width_px, height_px)`` of the saved image.
    """
    require_matplotlib()
    sec = float(snippet_seconds)
    gt_seg, gt_lab = _arr(gt_segments, (2, )), _arr(gt_labels,
                                                     dtype=np.int64)
    pts, pt_lab = _arr(points), _arr(point_labels, dtype=np.int64)
    pr_seg, pr_lab, pr_sco = _top(pred_segments, pred_labels, pred_scores,
                                  top_k)
    cas = None if fused_cas is None else _arr(fused_cas, (len(classes), ))
    att = None if attn is None else _arr(attn)
    T = (cas.shape[0] if cas is not None else
         att.shape[0] if att is not None else None)
    if duration is None:
        duration = T * sec if T is not None else float(
            max([1.0] + list(gt_seg.ravel()) + list(pr_seg.ravel())))
    shown = list(show_classes) if show_classes is not None else \
        relevant_classes(gt_lab, pr_lab, pr_sco, pt_lab, top_k)
    mining_rows = []
    if pseudo_action is not None:
        mining_rows.append(('pseudo action', 'act',
                            dict(flags=pseudo_action, sec=sec)))
    if pseudo_background is not None:
        mining_rows.append(('pseudo bg', 'bg',
                            dict(flags=pseudo_background, sec=sec)))
    for key in ('RP', 'PP', 'NP'):
        if proposals and key in proposals:
            mining_rows.append((key, 'prop', (key, proposals[key])))
    curves = None
    if T is not None:
        curves = ((np.arange(T) + 0.5) * sec, cas, att)
    if title is None:
        title = video_title(video, len(gt_seg), points, len(pr_seg),
                            mining=pseudo_action is not None or
                            pseudo_background is not None)
    return _draw_video(out_file, classes=classes, duration=duration,
                       gt_seg=gt_seg, gt_lab=gt_lab, pts=pts, pt_lab=pt_lab,
                       pred_sets=OrderedDict(pred=(pr_seg, pr_lab, pr_sco)),
                       shown=shown, title=title, score_note=score_note,
                       width=width, dpi=dpi, curves=curves,
                       mining_rows=mining_rows)


Predictions = Union[Tuple, Mapping[str, object]]


def _as_triplet(p, what: str):
    if isinstance(p, Mapping):
        try:
            p = (p['segments'], p['labels'], p['scores'])
        except KeyError as err:
            raise ValueError(f'{what}: expected keys segments, labels, '
                             f'scores (missing {err})') from None
    if not isinstance(p, (tuple, list)) or len(p) != 3:
        raise ValueError(f'{what}: expected (segments [M, 2], labels [M], '
                         f'scores [M])')
    return p


def plot_video(video_name: str,
               gt_segments,
               gt_labels,
               predictions,
               classes: Sequence[str],
               out_file: str,
               duration: Optional[float] = None,
               points=None,
               title: Optional[str] = None,
               *,
               point_labels=None,
               top_k: int = 10,
               show_classes: Optional[Sequence[int]] = None,
               score_note: Optional[str] = HRPRO_SCORE_NOTE,
               width: float = 12.0,
               dpi: int = 100) -> Tuple[int, int]:
    """Draw one video's ground truth and predictions (no model needed) and
    save it as PNG.

    Args:
        video_name: shown in the title.
        gt_segments, gt_labels: ``[N, 2]`` seconds, ``[N]`` class indices.
        predictions: ``(segments [M, 2] s, labels [M], scores [M])`` (a
            tuple, or a dict with those keys), or, to compare methods side
            by side, an ordered mapping ``{name: such a triplet}``; each set
            is cut to its ``top_k`` best.
        classes: class names.
        out_file: PNG path (parent folder must exist).
        duration: x range in seconds; default: the last end drawn.
        points: point times in seconds ``[P]`` (with ``point_labels``);
            None leaves points out of the title, an empty array makes it say
            "no point labels".
        title: replaces :func:`video_title`.
        point_labels: ``[P]`` class indices of ``points``.
        top_k: predictions drawn a set.
        show_classes: default: the ground truth's classes, then those of the
            sets' top predictions (at most 6).
        score_note: the line under the legend saying what a score is
            (:data:`GENERIC_SCORE_NOTE` for another method's file).

    Returns:
        ``(width_px, height_px)`` of the saved image.
    """
    require_matplotlib()
    is_sets = isinstance(predictions, Mapping) and not (
        'segments' in predictions and 'scores' in predictions)
    raw = predictions if is_sets else OrderedDict(pred=predictions)
    if not raw:
        raise ValueError('predictions: no prediction set given')
    sets = OrderedDict()
    for name, p in raw.items():
        sets[str(name)] = _top(*_as_triplet(p, f'predictions {name!r}'),
                               top_k)
    gt_seg, gt_lab = _arr(gt_segments, (2, )), _arr(gt_labels,
                                                     dtype=np.int64)
    pts, pt_lab = _arr(points), _arr(point_labels, dtype=np.int64)
    if len(pts) != len(pt_lab):
        raise ValueError(f'{len(pts)} points but {len(pt_lab)} point labels')
    if duration is None:
        ends = [1.0] + list(gt_seg[:, 1]) + [
            float(s[:, 1].max()) for s, _, _ in sets.values() if len(s)]
        duration = float(max(ends))
    if show_classes is None:
        shown: List[int] = relevant_classes(gt_lab, point_labels=pt_lab,
                                            max_classes=6)
        for segs, labs, scores in sets.values():
            for c in relevant_classes(None, labs, scores, None, top_k, 6):
                if c not in shown:
                    shown.append(c)
        shown = shown[:6]
    else:
        shown = list(show_classes)
    if title is None:
        counts = [len(s[0]) for s in sets.values()]
        title = video_title(video_name, len(gt_seg), points,
                            counts[0] if len(counts) == 1 else counts)
        if len(sets) > 1:
            title += ' | ' + ' vs '.join(sets)
    return _draw_video(out_file, classes=classes, duration=duration,
                       gt_seg=gt_seg, gt_lab=gt_lab, pts=pts, pt_lab=pt_lab,
                       pred_sets=sets, shown=shown, title=title,
                       score_note=score_note, width=width, dpi=dpi)


# ------------------------------------------------------------ error analysis
_CATEGORY_COLORS = OrderedDict([
    ('true_positive', '#4c9a2a'),
    ('double_detection', '#f2c14e'),
    ('wrong_label', '#d1495b'),
    ('localization', '#2e86ab'),
    ('confusion', '#8e6c8a'),
    ('background', '#9a9a9a'),
])


def plot_error_analysis(summary: Mapping, out_file: str,
                        category_names: Optional[Mapping[str, str]] = None,
                        width: float = 15.0, dpi: int = 80
                        ) -> Tuple[int, int]:
    """Four panels from ``analyze_errors``' summary: the false-positive
    profile over top-kG, the false-negative rate by action length and by
    instances per video, and the mAP gain of removing each error type.
    Returns ``(width_px, height_px)``."""
    Figure, FigureCanvasAgg = require_matplotlib()
    names = dict(category_names or {
        k: k.replace('_', ' ') for k in _CATEGORY_COLORS})
    fig = Figure(figsize=(width, 4.2), dpi=dpi)
    FigureCanvasAgg(fig)
    gs = fig.add_gridspec(1, 4, width_ratios=[1.5, 1, 1, 1.0], wspace=0.6,
                          left=0.045, right=0.985, top=0.86, bottom=0.3)
    t = summary['tiou']
    k = summary['top_multiple']

    ax = fig.add_subplot(gs[0])
    mult = summary['profile']['multiples']
    counts = np.asarray(summary['profile']['counts'], dtype=np.float64)
    frac = 100 * counts / np.maximum(counts.sum(1, keepdims=True), 1)
    bottom = np.zeros(len(mult))
    x = np.arange(len(mult))
    for j, key in enumerate(_CATEGORY_COLORS):
        ax.bar(x, frac[:, j], bottom=bottom, color=_CATEGORY_COLORS[key],
               label=names[key], width=0.8)
        bottom += frac[:, j]
    ax.set_xticks(x)
    ax.set_xticklabels([f'{m}G' for m in mult], fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_ylabel('% of the top-kG predictions', fontsize=9)
    ax.set_title(f'false-positive profile (tIoU {t:g})', fontsize=10)
    ax.legend(loc='upper center', bbox_to_anchor=(0.5, -0.12), ncol=3,
              fontsize=8, frameon=False)

    for col, key, what in ((1, 'fn_length', 'action length'),
                           (2, 'fn_count', 'same-class segments a video')):
        ax = fig.add_subplot(gs[col])
        part = summary[key]
        rate = np.array([np.nan if r is None else 100 * r
                         for r in part['rate']])
        xs = np.arange(len(rate))
        ax.bar(xs, np.nan_to_num(rate), color='#d1495b', width=0.7)
        for xi, r, n in zip(xs, rate, part['total']):
            ax.text(xi, (0 if np.isnan(r) else r) + 2,
                    'n=0' if n == 0 else f'{r:.0f}%\nn={n}', ha='center',
                    va='bottom', fontsize=7.5)
        ax.set_xticks(xs)
        ax.set_xticklabels(part['bins'], fontsize=7.5, rotation=30,
                           ha='right')
        ax.set_ylim(0, 118)
        ax.set_ylabel(f'false negatives at top-{k}G (%)', fontsize=9)
        ax.set_title(f'false negatives by {what}', fontsize=10)

    ax = fig.add_subplot(gs[3])
    gains = summary.get('gains')
    if gains:
        keys = [key for key in _CATEGORY_COLORS if key in gains]
        vals = [100 * gains[key] for key in keys]
        ys = np.arange(len(keys))[::-1]
        ax.barh(ys, vals, color=[_CATEGORY_COLORS[key] for key in keys],
                height=0.65)
        top = max(vals + [1e-9])
        for y, v in zip(ys, vals):
            ax.text(v + 0.02 * top, y, f'+{v:.2f}', va='center', fontsize=8)
        ax.set_yticks(ys)
        ax.set_yticklabels([names[key] for key in keys], fontsize=8.5)
        ax.set_xlim(0, 1.25 * top)
        ax.set_xlabel(f'mAP@{t:g} gain (points), base '
                      f'{100 * gains["base"]:.2f}', fontsize=9)
        ax.set_title('if this error type were removed', fontsize=10)
    else:
        ax.axis('off')
    fig.savefig(out_file, dpi=dpi, format='png')
    w, h = fig.canvas.get_width_height()
    return int(w), int(h)
