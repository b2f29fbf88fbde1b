"""How marks look: class colours, score opacity, font sizes."""
import numpy as np

#: points, the number on a prediction box
SCORE_FONT = 8.5
#: points, the track names on the y axis
TRACK_FONT = 9


def class_colors(num: int):
    """One RGBA colour a class: ``tab10`` up to 10 classes, else ``tab20``
    (repeating past 20)."""
    from matplotlib import colormaps
    cmap = colormaps['tab10' if num <= 10 else 'tab20']
    return [cmap(i % cmap.N) for i in range(num)]


def opacity(scores: np.ndarray) -> np.ndarray:
    """0.35 (lowest drawn score) .. 1 (highest) of one prediction set."""
    if scores.size == 0:
        return scores
    lo, hi = float(scores.min()), float(scores.max())
    if hi - lo < 1e-12:
        return np.ones_like(scores)
    return 0.35 + 0.65 * (scores - lo) / (hi - lo)
