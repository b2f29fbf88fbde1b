"""What a video figure shows: the top-k predictions of each set, the
prediction sets a caller passes (one, or several side by side), and the
classes worth a track."""
from collections import OrderedDict
from typing import List, Mapping, Sequence

import numpy as np

from .arrays import as_array

#: the most classes drawn when the caller names none
MAX_CLASSES = 6


def top_predictions(segs, labels, scores, top_k: int):
    """The ``top_k`` best predictions (by score, ties in input order) as
    ``(segments [k, 2], labels [k], scores [k])`` arrays."""
    segs, labels, scores = (as_array(segs, (2, )),
                            as_array(labels, dtype=np.int64),
                            as_array(scores))
    if not segs.shape[0] == labels.size == scores.size:
        raise ValueError(f'predictions: {segs.shape[0]} segments, '
                         f'{labels.size} labels, {scores.size} scores')
    order = np.argsort(-scores, kind='stable')[:max(int(top_k), 0)]
    return segs[order], labels[order], scores[order]


def as_triplet(p, what: str):
    """``(segments, labels, scores)`` from a tuple/list or a dict with those
    keys; ``what`` names ``p`` in the error."""
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


def prediction_sets(predictions, top_k: int) -> 'OrderedDict[str, tuple]':
    """``{name: top-k (segments, labels, scores)}``.

    ``predictions``: one triplet (tuple, or a dict with keys ``segments``,
    ``labels``, ``scores``), named ``pred``; or an ordered mapping
    ``{name: triplet}`` to compare sets side by side.
    """
    is_sets = isinstance(predictions, Mapping) and not (
        'segments' in predictions and 'scores' in predictions)
    raw = predictions if is_sets else OrderedDict(pred=predictions)
    if not raw:
        raise ValueError('predictions: no prediction set given')
    sets = OrderedDict()
    for name, p in raw.items():
        sets[str(name)] = top_predictions(
            *as_triplet(p, f'predictions {name!r}'), top_k)
    return sets


def relevant_classes(gt_labels=None, pred_labels=None, pred_scores=None,
                     point_labels=None, top_k: int = 10,
                     max_classes: int = MAX_CLASSES) -> List[int]:
    """Classes worth drawing: those of the ground truth and points, then
    those of the top-k predictions (by score), at most ``max_classes``."""
    out: List[int] = []
    for c in list(as_array(gt_labels, dtype=np.int64)) + list(
            as_array(point_labels, dtype=np.int64)):
        if int(c) not in out:
            out.append(int(c))
    labels = as_array(pred_labels, dtype=np.int64)
    scores = as_array(pred_scores)
    if labels.size:
        order = np.argsort(-scores, kind='stable')[:top_k]
        for c in labels[order]:
            if int(c) not in out:
                out.append(int(c))
    return out[:max(max_classes, 1)]


def classes_of_sets(gt_labels, point_labels, sets: Mapping[str, Sequence],
                    top_k: int) -> List[int]:
    """Classes worth drawing for several prediction sets: those of the
    ground truth and points, then each set's (in set order), at most
    :data:`MAX_CLASSES`."""
    shown = relevant_classes(gt_labels, point_labels=point_labels,
                             max_classes=MAX_CLASSES)
    for segs, labs, scores in sets.values():
        for c in relevant_classes(None, labs, scores, None, top_k,
                                  MAX_CLASSES):
            if c not in shown:
                shown.append(c)
    return shown[:MAX_CLASSES]
