"""One figure a video: ground truth, points, predictions, CAS and attention.

Layout (x axis in seconds, shared):

* top panel, one row a track: for each relevant class ``GT <class>`` (ground
  truth segments as bars, point labels as triangles) and ``pred <class>``
  (the top-k predictions as bars, opacity = score); with training-mining
  data also ``pseudo action`` / ``pseudo bg`` snippets and the ``RP`` /
  ``PP`` / ``NP`` proposals of the mining file;
* bottom panel: the fused CAS (``S * A``) of the relevant classes and the
  class-agnostic attention ``A``.

matplotlib is imported inside the functions (the Agg canvas, no GUI and no
global backend switch); without it a clear ImportError says what to install.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

__all__ = ['plot_localization', 'require_matplotlib', 'relevant_classes']


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


def _pack_lanes(segs: np.ndarray, max_lanes: int = 8) -> np.ndarray:
    """Lane of each segment so that segments of one lane do not overlap
    (greedy by start; beyond ``max_lanes`` the lane that frees first)."""
    lanes = np.zeros(len(segs), dtype=np.int64)
    ends: List[float] = []
    for j in np.argsort(segs[:, 0], kind='stable') if len(segs) else []:
        s, e = segs[j]
        free = [k for k, end in enumerate(ends) if end <= s]
        if free:
            k = free[0]
        elif len(ends) < max_lanes:
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


def _class_colors(num: int):
    from matplotlib import colormaps
    cmap = colormaps['tab10' if num <= 10 else 'tab20']
    return [cmap(i % cmap.N) for i in range(num)]


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
                      title: Optional[str] = None) -> Tuple[int, int]:
    """Draw one video and save it as PNG.

    Args:
        out_file: PNG path (parent folder must exist).
        video: name shown in the title.
        classes: class names (label ``i`` is ``classes[i]``).
        snippet_seconds: seconds a snippet covers (x of snippet ``t`` is
            ``(t + 0.5) * snippet_seconds`` for curves).
        duration: video length in seconds (x range); default from the CAS.
        gt_segments, gt_labels: ``[N, 2]`` seconds, ``[N]``.
        points, point_labels: point times in seconds ``[P]``, labels ``[P]``.
        pred_segments, pred_labels, pred_scores: predictions; the ``top_k``
            best are drawn.
        fused_cas: ``[T, C]`` fused CAS; attn: ``[T]`` attention.
        show_classes: classes to draw; default :func:`relevant_classes`.
        pseudo_action: ``[T]`` or ``[T, C]`` pseudo action snippets;
            pseudo_background: ``[T]`` bool.
        proposals: ``{'RP': (segments [N, 2] s, labels [N]), 'PP': ...,
            'NP': (segments, None)}``.
        width, dpi: figure width (inches) and resolution.

    Returns:
        ``(width_px, height_px)`` of the saved image.
    """
    Figure, FigureCanvasAgg = require_matplotlib()
    sec = float(snippet_seconds)
    gt_seg, gt_lab = _arr(gt_segments, (2, )), _arr(gt_labels,
                                                     dtype=np.int64)
    pts, pt_lab = _arr(points), _arr(point_labels, dtype=np.int64)
    pr_seg, pr_lab = _arr(pred_segments, (2, )), _arr(pred_labels,
                                                       dtype=np.int64)
    pr_sco = _arr(pred_scores)
    order = np.argsort(-pr_sco, kind='stable')[:max(int(top_k), 0)]
    pr_seg, pr_lab, pr_sco = pr_seg[order], pr_lab[order], pr_sco[order]
    cas = None if fused_cas is None else _arr(fused_cas, (len(classes), ))
    att = None if attn is None else _arr(attn)
    T = (cas.shape[0] if cas is not None else
         att.shape[0] if att is not None else None)
    if duration is None:
        duration = T * sec if T is not None else float(
            max([1.0] + list(gt_seg.ravel()) + list(pr_seg.ravel())))
    shown = list(show_classes) if show_classes is not None else \
        relevant_classes(gt_lab, pr_lab, pr_sco, pt_lab, top_k)
    colors = _class_colors(len(classes))

    # ------------------------------------------------------------- rows
    rows: List[Tuple[str, str, object]] = []  # (label, kind, payload)
    for c in shown:
        rows.append((f'GT {classes[c]}', 'gt', c))
        rows.append((f'pred {classes[c]}', 'pred', c))
    mining = pseudo_action is not None or pseudo_background is not None
    if pseudo_action is not None:
        rows.append(('pseudo action', 'act', None))
    if pseudo_background is not None:
        rows.append(('pseudo bg', 'bg', None))
    for key in ('RP', 'PP', 'NP'):
        if proposals and key in proposals:
            rows.append((key, 'prop', key))

    units = [2.4 if kind == 'prop' else 1.0 for _, kind, _ in rows]
    total = float(sum(units)) if rows else 1.0
    centres = total - (np.cumsum(units) - np.asarray(units) / 2)
    track_h = 0.3 * total + 0.6
    curve_h = 2.4 if (cas is not None or att is not None) else 0.0
    height = track_h + curve_h + 0.9
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    ratios = [track_h] + ([curve_h] if curve_h else [])
    gs = fig.add_gridspec(len(ratios), 1, height_ratios=ratios, hspace=0.08,
                          left=0.14, right=0.985, top=1 - 0.5 / height,
                          bottom=0.55 / height)
    ax = fig.add_subplot(gs[0])
    for i, (label, kind, payload) in enumerate(rows):
        y = float(centres[i])
        if kind == 'gt':
            c = payload
            sel = gt_lab == c
            ax.broken_barh([(s, max(e - s, 1e-3)) for s, e in gt_seg[sel]],
                           (y - 0.38, 0.76), facecolors=colors[c],
                           edgecolors='none')
            psel = pt_lab == c
            if psel.any():
                ax.plot(pts[psel], np.full(psel.sum(), y), 'v', color='k',
                        markersize=5, zorder=3)
        elif kind == 'pred':
            c = payload
            for (s, e), x in zip(pr_seg[pr_lab == c], pr_sco[pr_lab == c]):
                alpha = float(np.clip(0.25 + 0.75 * x, 0.25, 1.0))
                ax.broken_barh([(s, max(e - s, 1e-3))], (y - 0.3, 0.6),
                               facecolors=colors[c], alpha=alpha,
                               edgecolors='k', linewidth=0.4)
                ax.text((s + e) / 2, y, f'{x:.2f}', ha='center',
                        va='center', fontsize=6)
        elif kind == 'act':
            flags = np.asarray(_to_numpy(pseudo_action), dtype=np.float64)
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
            flags = _arr(pseudo_background)
            ax.broken_barh([(t * sec, sec) for t in np.flatnonzero(flags > 0)],
                           (y - 0.3, 0.6), facecolors='0.55',
                           edgecolors='white', linewidth=0.3)
        elif kind == 'prop':
            segs, labs = proposals[payload]
            segs = _arr(segs, (2, ))
            labs = None if labs is None else _arr(labs, dtype=np.int64)
            lanes = _pack_lanes(segs)
            num_lanes = int(lanes.max()) + 1 if lanes.size else 1
            h = 0.9 * units[i] / num_lanes
            for j, (s, e) in enumerate(segs):
                col = colors[labs[j]] if labs is not None else '0.35'
                y0 = y - 0.45 * units[i] + lanes[j] * h
                ax.broken_barh([(s, max(e - s, 1e-3))], (y0 + 0.1 * h,
                                                         0.8 * h),
                               facecolors=col, edgecolors='none',
                               alpha=dict(RP=1.0, PP=0.6, NP=0.8)[payload])
    ax.set_yticks(centres)
    ax.set_yticklabels([r[0] for r in rows], fontsize=8)
    ax.set_ylim(-0.2, total + 0.2)
    ax.set_xlim(0, duration)
    ax.grid(axis='x', alpha=0.3)
    parts = [f'{video}', f'{len(gt_seg)} GT', f'{len(pts)} points',
             f'top-{len(pr_seg)} predictions']
    if mining:
        parts.append('training mining')
    ax.set_title(title or ' | '.join(parts), fontsize=10)
    if curve_h:
        ax.tick_params(labelbottom=False)
        ax2 = fig.add_subplot(gs[1], sharex=ax)
        x = (np.arange(T) + 0.5) * sec
        if cas is not None:
            for c in shown:
                ax2.plot(x, cas[:, c], color=colors[c], linewidth=1.2,
                         label=f'CAS {classes[c]}')
        if att is not None:
            ax2.plot(x, att, 'k--', linewidth=1.0, label='attention')
        ax2.set_ylim(-0.02, 1.02)
        ax2.set_ylabel('score', fontsize=8)
        ax2.set_xlabel('time (s)', fontsize=9)
        ax2.grid(alpha=0.3)
        ax2.legend(loc='upper right', fontsize=7, ncol=4, framealpha=0.8)
        ax2.set_xlim(0, duration)
    else:
        ax.set_xlabel('time (s)', fontsize=9)
    fig.savefig(out_file, dpi=dpi, format='png')
    w, h = fig.canvas.get_width_height()
    return int(w), int(h)
