"""Plots of HR-Pro predictions (matplotlib, imported lazily).

Not imported by ``hrpro_plugin/__init__.py``: training and testing never
need matplotlib. ``tools/visualize.py`` and ``tools/analyze_errors.py`` are
the command-line front ends.

Modules, one job each: ``plot`` (the video figure's entry points),
``figure`` (assembling and saving it), ``tracks`` (drawing one track kind),
``layout`` (lanes, track positions, margins; no matplotlib), ``selection``
(top-k, prediction sets, classes shown), ``text`` (title, score notes),
``style`` (colours, opacity, fonts), ``error_analysis`` (the
``analyze_errors`` figure), ``backend`` (the lazy matplotlib import),
``arrays`` (inputs as NumPy).
"""
from .backend import require_matplotlib
from .error_analysis import plot_error_analysis
from .layout import assign_lanes
from .plot import plot_localization, plot_video
from .selection import relevant_classes
from .text import GENERIC_SCORE_NOTE, HRPRO_SCORE_NOTE, video_title

__all__ = [
    'plot_localization', 'plot_video', 'plot_error_analysis',
    'require_matplotlib', 'assign_lanes', 'video_title', 'HRPRO_SCORE_NOTE',
    'GENERIC_SCORE_NOTE', 'relevant_classes'
]
