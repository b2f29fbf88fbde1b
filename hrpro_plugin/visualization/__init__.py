"""Plots of HR-Pro predictions (matplotlib, imported lazily).

Not imported by ``hrpro_plugin/__init__.py``: training and testing never
need matplotlib. ``tools/visualize.py`` is the command-line front end.
"""
from .plot import plot_localization, require_matplotlib

__all__ = ['plot_localization', 'require_matplotlib']
