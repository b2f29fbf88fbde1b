"""The one place matplotlib is imported: the Agg canvas, no GUI and no
global backend switch, and a clear ImportError without it."""


def require_matplotlib():
    """Import matplotlib or raise an ImportError saying how to get it.

    Returns:
        ``(Figure, FigureCanvasAgg)``.
    """
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
