"""Detection average precision for temporal action localization.

Pure NumPy, no framework. Conventions (docs/method.md, "Scoring"):

* per class, predictions are sorted by score, descending, with a *stable*
  sort (ties keep their input order: videos in mapping order, then row
  order inside a video);
* each prediction is matched to the unmatched ground-truth segment of the
  same video with the highest tIoU at or above the threshold (ties in tIoU go
  to the lowest ground-truth index); a matched prediction is a true positive,
  every other one (including a duplicate of an already matched detection) is
  a false positive;
* AP is the area under the interpolated precision envelope (ActivityNet /
  VOC 2011 definition), the quantity computed for one class by
  ``mmaction.evaluation.functional.average_precision_at_temporal_iou``;
* mAP is the mean over the classes that have ground truth in the evaluated
  set.

tIoU is continuous (``[s, e]`` has length ``e - s``), see :mod:`.tiou`.

Data shapes used throughout (seconds everywhere):

* ground truth: ``{video: (segments [N, 2], labels [N])}``
* predictions: ``{video: (segments [M, 2], labels [M], scores [M])}``

Labels are integer indices into the class list.
"""
from collections import OrderedDict
from typing import Dict, Mapping, Sequence, Tuple, Union

import numpy as np

from ...ops.tiou import pairwise_tiou_np

GT = Mapping[str, Tuple[np.ndarray, np.ndarray]]
Preds = Mapping[str, Tuple[np.ndarray, np.ndarray, np.ndarray]]

__all__ = [
    'average_precision', 'mean_average_precision', 'filter_ambiguous',
    'summarize_map', 'AVERAGE_RANGES'
]

#: Threshold ranges whose average is reported when every threshold of the
#: range is evaluated: name -> thresholds.
AVERAGE_RANGES = OrderedDict([
    ('0.1-0.5', (0.1, 0.2, 0.3, 0.4, 0.5)),
    ('0.3-0.7', (0.3, 0.4, 0.5, 0.6, 0.7)),
    ('0.1-0.7', (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)),
])


def _segments(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).reshape(-1, 2)


def _thresholds(tiou_thresholds) -> np.ndarray:
    thr = np.atleast_1d(np.asarray(tiou_thresholds, dtype=np.float64))
    if thr.ndim != 1 or thr.size == 0:
        raise ValueError(f'tiou_thresholds must be a non-empty 1-D sequence, '
                         f'got {tiou_thresholds!r}')
    return thr


def _match_video(gt: np.ndarray, segs: np.ndarray,
                 thr: np.ndarray) -> np.ndarray:
    """Greedy matching inside one video; ``segs`` already in score order.

    Returns ``tp [n_thr, M]`` bool.
    """
    n_thr, m = thr.size, segs.shape[0]
    tp = np.zeros((n_thr, m), dtype=bool)
    if m == 0 or gt.shape[0] == 0:
        return tp
    iou = pairwise_tiou_np(segs, gt)  # [M, K]
    # a prediction whose best tIoU is below every threshold is a FP whatever
    # was matched before it: only the others need the sequential loop.
    candidates = np.nonzero(iou.max(axis=1) >= thr.min())[0]
    locked = np.zeros((n_thr, gt.shape[0]), dtype=bool)
    rows = np.arange(n_thr)
    for i in candidates:
        ok = (iou[i][None, :] >= thr[:, None]) & ~locked  # [n_thr, K]
        hit = ok.any(axis=1)
        if not hit.any():
            continue
        j = np.where(ok, iou[i][None, :], -np.inf).argmax(axis=1)
        locked[rows[hit], j[hit]] = True
        tp[hit, i] = True
        if locked.all():  # every GT taken at every threshold: rest are FP
            break
    return tp


def _interpolated_ap(tp: np.ndarray, num_gt: int) -> np.ndarray:
    """``tp [n_thr, M]`` bool in global score order -> AP ``[n_thr]``."""
    n_thr, m = tp.shape
    if m == 0:
        return np.zeros(n_thr)
    tp_cum = np.cumsum(tp, axis=1, dtype=np.float64)
    fp_cum = np.cumsum(~tp, axis=1, dtype=np.float64)
    recall = tp_cum / num_gt
    precision = tp_cum / (tp_cum + fp_cum)
    zeros = np.zeros((n_thr, 1))
    mprec = np.hstack([zeros, precision, zeros])
    mrec = np.hstack([zeros, recall, np.ones((n_thr, 1))])
    # precision envelope: running maximum from the right
    mprec = np.maximum.accumulate(mprec[:, ::-1], axis=1)[:, ::-1]
    # area: sum over recall steps of step width x envelope at the step's end
    # (steps of zero width add nothing)
    return np.sum((mrec[:, 1:] - mrec[:, :-1]) * mprec[:, 1:], axis=1)


def average_precision(
        gt_by_video: Mapping[str, np.ndarray],
        preds: Mapping[str, Tuple[np.ndarray, np.ndarray]],
        tiou_thresholds: Union[Sequence[float], np.ndarray]) -> np.ndarray:
    """AP of ONE class at each tIoU threshold.

    Args:
        gt_by_video: ``{video: segments [K, 2]}``, this class's ground truth.
            Videos absent here have no ground truth of the class.
        preds: ``{video: (segments [M, 2], scores [M])}``, this class's
            predictions. A prediction in a video without ground truth of the
            class is a false positive.
        tiou_thresholds: ``[n_thr]`` thresholds.

    Returns:
        np.ndarray: ``[n_thr]`` float64 AP in [0, 1]; all NaN when the class
        has no ground truth (AP undefined), all 0 when it has ground truth but
        no prediction.
    """
    thr = _thresholds(tiou_thresholds)
    gts = {v: _segments(g) for v, g in gt_by_video.items()}
    num_gt = sum(g.shape[0] for g in gts.values())
    if num_gt == 0:
        return np.full(thr.size, np.nan)

    empty_gt = np.zeros((0, 2))
    all_tp, all_scores = [], []
    for video, (segs, scores) in preds.items():
        segs = _segments(segs)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        if segs.shape[0] != scores.shape[0]:
            raise ValueError(f'video {video!r}: {segs.shape[0]} segments but '
                             f'{scores.shape[0]} scores')
        order = np.argsort(-scores, kind='stable')
        tp = np.zeros((thr.size, scores.size), dtype=bool)
        tp[:, order] = _match_video(gts.get(video, empty_gt), segs[order], thr)
        all_tp.append(tp)
        all_scores.append(scores)
    if not all_scores:
        return np.zeros(thr.size)
    scores = np.concatenate(all_scores)
    tp = np.concatenate(all_tp, axis=1)
    # the same stable key as inside each video, so the global order agrees
    # with the per-video matching order
    order = np.argsort(-scores, kind='stable')
    return _interpolated_ap(tp[:, order], num_gt)


def mean_average_precision(
    gt: GT,
    preds: Preds,
    classes: Union[int, Sequence[str]],
    tiou_thresholds: Union[Sequence[float], np.ndarray],
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class AP and mAP over classes with ground truth.

    Args:
        gt: ``{video: (segments [N, 2], labels [N])}``; its keys are the
            evaluated set.
        preds: ``{video: (segments [M, 2], labels [M], scores [M])}``.
            Predictions of videos absent from ``gt`` count as false
            positives; restrict ``preds`` to the evaluated set beforehand.
        classes: the class names (or their number); labels index them.
        tiou_thresholds: ``[n_thr]``.

    Returns:
        tuple: ``map [n_thr]`` (mean over valid classes; NaN when no class has
        ground truth), ``ap [n_cls, n_thr]`` (NaN rows for classes without
        ground truth), ``valid [n_cls]`` bool (class has ground truth).
        All fractions in [0, 1].
    """
    thr = _thresholds(tiou_thresholds)
    n_cls = classes if isinstance(classes, (int, np.integer)) else len(classes)
    gt_cls = [dict() for _ in range(n_cls)]
    for video, (segs, labels) in gt.items():
        segs = _segments(segs)
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
        _check_labels(labels, n_cls, video, 'ground truth')
        for c in np.unique(labels):
            gt_cls[c][video] = segs[labels == c]
    pred_cls = [dict() for _ in range(n_cls)]
    for video, (segs, labels, scores) in preds.items():
        segs = _segments(segs)
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        if not segs.shape[0] == labels.size == scores.size:
            raise ValueError(
                f'video {video!r}: {segs.shape[0]} segments, {labels.size} '
                f'labels and {scores.size} scores')
        _check_labels(labels, n_cls, video, 'prediction')
        for c in np.unique(labels):
            keep = labels == c
            pred_cls[c][video] = (segs[keep], scores[keep])

    ap = np.full((n_cls, thr.size), np.nan)
    valid = np.array([len(g) > 0 for g in gt_cls], dtype=bool)
    for c in np.nonzero(valid)[0]:
        ap[c] = average_precision(gt_cls[c], pred_cls[c], thr)
    if valid.any():
        mean_ap = ap[valid].mean(axis=0)
    else:
        mean_ap = np.full(thr.size, np.nan)
    return mean_ap, ap, valid


def _check_labels(labels: np.ndarray, n_cls: int, video: str,
                  what: str) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= n_cls):
        bad = labels[(labels < 0) | (labels >= n_cls)][0]
        raise ValueError(f'video {video!r}: {what} label {int(bad)} outside '
                         f'the {n_cls} classes')


def filter_ambiguous(preds: Preds,
                     ambiguous: Mapping[str, np.ndarray],
                     rule: str = 'overlap') -> Dict[str, tuple]:
    """Drop predictions overlapping an ambiguous segment of the same video.

    Args:
        preds: ``{video: (segments [M, 2], labels [M], scores [M])}``.
        ambiguous: ``{video: segments [K, 2]}`` (seconds).
        rule: ``'overlap'`` (default): dropped when the intersection with an
            ambiguous segment has positive length (touching end points do
            not count). ``'reference'``: the reference evaluator's test on
            whole seconds: the integer sets ``range(round(a_s), round(a_e))``
            and ``range(int(p_s), int(p_e))`` share an element (``round``
            halves to even; a prediction within one second never drops).

    Returns:
        dict: a new mapping of the same form (input arrays are not modified).
    """
    if rule not in ('overlap', 'reference'):
        raise ValueError(f"ambiguous rule must be 'overlap' or 'reference', "
                         f'got {rule!r}')
    out = {}
    for video, (segs, labels, scores) in preds.items():
        segs = _segments(segs)
        labels = np.asarray(labels).reshape(-1)
        scores = np.asarray(scores).reshape(-1)
        amb = ambiguous.get(video)
        if amb is None or len(amb) == 0 or segs.shape[0] == 0:
            out[video] = (segs, labels, scores)
            continue
        amb = _segments(amb)
        if rule == 'overlap':
            inter = (np.minimum(segs[:, None, 1], amb[None, :, 1]) -
                     np.maximum(segs[:, None, 0], amb[None, :, 0]))
        else:
            a0, a1 = np.round(amb[:, 0]), np.round(amb[:, 1])
            # int() truncates towards zero
            p0, p1 = np.trunc(segs[:, 0]), np.trunc(segs[:, 1])
            inter = (np.minimum(p1[:, None], a1[None, :]) -
                     np.maximum(p0[:, None], a0[None, :]))
        keep = ~(inter > 0).any(axis=1)
        out[video] = (segs[keep], labels[keep], scores[keep])
    return out


def summarize_map(tiou_thresholds: Sequence[float],
                  mean_ap: Sequence[float]) -> 'OrderedDict[str, float]':
    """Averages of an mAP curve: ``'all'`` (every threshold) and each range of
    :data:`AVERAGE_RANGES` whose thresholds are all evaluated. Same unit as
    ``mean_ap``."""
    thr = _thresholds(tiou_thresholds)
    mean_ap = np.asarray(mean_ap, dtype=np.float64).reshape(-1)
    out = OrderedDict(all=float(mean_ap.mean()))
    for name, rng in AVERAGE_RANGES.items():
        idx = []
        for t in rng:
            hit = np.nonzero(np.isclose(thr, t, rtol=0, atol=1e-6))[0]
            if hit.size == 0:
                break
            idx.append(hit[0])
        else:
            out[name] = float(mean_ap[idx].mean())
    return out
