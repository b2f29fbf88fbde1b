"""Fixtures of the visualization tests: a PNG's size from its header (the
figures a test saved: tests/conftest.py)."""
import struct

import pytest


def _png_size(path):
    with open(path, 'rb') as f:
        head = f.read(24)
    assert head[:8] == b'\x89PNG\r\n\x1a\n' and head[12:16] == b'IHDR'
    return struct.unpack('>II', head[16:24])


@pytest.fixture
def png_size():
    """``png_size(path) -> (width, height)`` read from the PNG header."""
    return _png_size


@pytest.fixture
def axes():
    """A bare Agg axes (x 0..60 s, y 0..4 track units)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6, 3), dpi=50)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_xlim(0, 60)
    ax.set_ylim(0, 4)
    return ax
