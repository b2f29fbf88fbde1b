"""The words on a video figure: its title and the line saying what a score
is."""
from typing import Optional, Sequence, Union

import numpy as np

from .arrays import as_array

#: What an HR-Pro score is (models/localizers/hrpro.py, docs/method.md).
HRPRO_SCORE_NOTE = (
    'HR-Pro score = OIC (fused CAS inside minus around the box, -1..1) + '
    'stage-2 completeness (0..1), after soft-NMS: it can exceed 1 '
    '(stage 1 alone: OIC)')
#: For a results file of unknown origin.
GENERIC_SCORE_NOTE = 'score as given in the results file (its method\'s ' \
    'scale)'


def _points_part(points) -> str:
    n = len(as_array(points))
    return (f'{n} point{"s" if n != 1 else ""}' if n else 'no point labels')


def _predictions_part(num_predictions) -> str:
    if isinstance(num_predictions, (int, np.integer)):
        return f'top-{int(num_predictions)} predictions'
    n = sorted({int(x) for x in num_predictions})
    if len(n) == 1:
        return f'top-{n[0]} predictions a set'
    return 'top-' + ' / '.join(str(int(x))
                               for x in num_predictions) + ' predictions'


def video_title(video: str, num_gt: int, points=None,
                num_predictions: Optional[Union[int, Sequence[int]]] = None,
                mining: bool = False) -> str:
    """``video | N GT | P points | top-k predictions``.

    ``points=None`` (unknown, e.g. a test set or a results-only plot) leaves
    the points out; an empty array says ``no point labels``.
    ``num_predictions``: one count, or one a prediction set (side by side).
    """
    parts = [str(video), f'{int(num_gt)} GT']
    if points is not None:
        parts.append(_points_part(points))
    if num_predictions is not None:
        parts.append(_predictions_part(num_predictions))
    if mining:
        parts.append('training mining')
    return ' | '.join(parts)
