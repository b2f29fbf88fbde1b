"""Plots of HR-Pro predictions (matplotlib, imported lazily).

Not imported by ``hrpro_plugin/__init__.py``: training and testing never
need matplotlib. ``tools/visualize.py`` and ``tools/analyze_errors.py`` are
the command-line front ends.
"""
from .plot import (GENERIC_SCORE_NOTE, HRPRO_SCORE_NOTE, assign_lanes,
                   plot_error_analysis, plot_localization, plot_video,
                   require_matplotlib, video_title)

__all__ = [
    'plot_localization', 'plot_video', 'plot_error_analysis',
    'require_matplotlib', 'assign_lanes', 'video_title', 'HRPRO_SCORE_NOTE',
    'GENERIC_SCORE_NOTE'
]
