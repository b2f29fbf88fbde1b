"""The error-analysis figure of ``tools/analyze_errors.py``: four panels
from :func:`hrpro_plugin.evaluation.functional.analyze_errors`' summary."""
from collections import OrderedDict
from typing import Mapping, Optional, Tuple

import numpy as np

from .backend import require_matplotlib

#: error type -> colour, in the order of the summary's profile columns
CATEGORY_COLORS = OrderedDict([
    ('true_positive', '#4c9a2a'),
    ('double_detection', '#f2c14e'),
    ('wrong_label', '#d1495b'),
    ('localization', '#2e86ab'),
    ('confusion', '#8e6c8a'),
    ('background', '#9a9a9a'),
])


def _profile_panel(ax, summary: Mapping, names: Mapping[str, str]):
    """The false-positive profile: the share of each error type among the
    top-kG predictions, stacked, one bar a multiple k."""
    mult = summary['profile']['multiples']
    counts = np.asarray(summary['profile']['counts'], dtype=np.float64)
    frac = 100 * counts / np.maximum(counts.sum(1, keepdims=True), 1)
    bottom = np.zeros(len(mult))
    x = np.arange(len(mult))
    for j, key in enumerate(CATEGORY_COLORS):
        ax.bar(x, frac[:, j], bottom=bottom, color=CATEGORY_COLORS[key],
               label=names[key], width=0.8)
        bottom += frac[:, j]
    ax.set_xticks(x)
    ax.set_xticklabels([f'{m}G' for m in mult], fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_ylabel('% of the top-kG predictions', fontsize=9)
    ax.set_title(f'false-positive profile (tIoU {summary["tiou"]:g})',
                 fontsize=10)
    ax.legend(loc='upper center', bbox_to_anchor=(0.5, -0.12), ncol=3,
              fontsize=8, frameon=False)


def _false_negative_panel(ax, part: Mapping, what: str, k):
    """The false-negative rate at top-``k``G of each bin of ``part``
    (``bins``, ``rate`` (None for an empty bin), ``total``)."""
    rate = np.array([np.nan if r is None else 100 * r for r in part['rate']])
    xs = np.arange(len(rate))
    ax.bar(xs, np.nan_to_num(rate), color='#d1495b', width=0.7)
    for xi, r, n in zip(xs, rate, part['total']):
        ax.text(xi, (0 if np.isnan(r) else r) + 2,
                'n=0' if n == 0 else f'{r:.0f}%\nn={n}', ha='center',
                va='bottom', fontsize=7.5)
    ax.set_xticks(xs)
    ax.set_xticklabels(part['bins'], fontsize=7.5, rotation=30, ha='right')
    ax.set_ylim(0, 118)
    ax.set_ylabel(f'false negatives at top-{k}G (%)', fontsize=9)
    ax.set_title(f'false negatives by {what}', fontsize=10)


def _gains_panel(ax, gains: Optional[Mapping], names: Mapping[str, str],
                 tiou):
    """The mAP gain of removing each error type (blank without
    ``gains``)."""
    if not gains:
        ax.axis('off')
        return
    keys = [key for key in CATEGORY_COLORS if key in gains]
    vals = [100 * gains[key] for key in keys]
    ys = np.arange(len(keys))[::-1]
    ax.barh(ys, vals, color=[CATEGORY_COLORS[key] for key in keys],
            height=0.65)
    top = max(vals + [1e-9])
    for y, v in zip(ys, vals):
        ax.text(v + 0.02 * top, y, f'+{v:.2f}', va='center', fontsize=8)
    ax.set_yticks(ys)
    ax.set_yticklabels([names[key] for key in keys], fontsize=8.5)
    ax.set_xlim(0, 1.25 * top)
    ax.set_xlabel(f'mAP@{tiou:g} gain (points), base '
                  f'{100 * gains["base"]:.2f}', fontsize=9)
    ax.set_title('if this error type were removed', fontsize=10)


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
        k: k.replace('_', ' ') for k in CATEGORY_COLORS})
    fig = Figure(figsize=(width, 4.2), dpi=dpi)
    FigureCanvasAgg(fig)
    gs = fig.add_gridspec(1, 4, width_ratios=[1.5, 1, 1, 1.0], wspace=0.6,
                          left=0.045, right=0.985, top=0.86, bottom=0.3)
    _profile_panel(fig.add_subplot(gs[0]), summary, names)
    for col, key, what in ((1, 'fn_length', 'action length'),
                           (2, 'fn_count', 'same-class segments a video')):
        _false_negative_panel(fig.add_subplot(gs[col]), summary[key], what,
                              summary['top_multiple'])
    _gains_panel(fig.add_subplot(gs[3]), summary.get('gains'), names,
                 summary['tiou'])
    fig.savefig(out_file, dpi=dpi, format='png')
    w, h = fig.canvas.get_width_height()
    return int(w), int(h)
