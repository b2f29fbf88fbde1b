"""Which errors cost mAP: the false-positive and false-negative analysis of
Alwassel et al., "Diagnosing Error in Temporal Action Detectors" (ECCV 2018),
implemented from the paper's definitions. Pure NumPy, no framework.

Data shapes are those of :mod:`.ap` (seconds everywhere):

* ground truth: ``{video: (segments [N, 2], labels [N])}``
* predictions: ``{video: (segments [M, 2], labels [M], scores [M])}``

**Matching.** Exactly the matching of the AP (:mod:`.ap`): per class,
predictions by score (stable sort: videos in mapping order, then row order),
each one taking the unmatched ground-truth segment of its class and video
with the highest tIoU ``>= t`` (ties to the lowest index). The true
positives here are therefore the true positives of the AP at ``t``.

**Categories** of a prediction, first rule that applies (``t`` the analysis
tIoU, ``t_low = 0.1``; "same" / "other" = ground truth of the same video with
the prediction's class / another class):

===================  ====================================================
true positive        matched
double detection     tIoU ``>= t`` with a same-class segment (all of them
                     were matched by higher-scored predictions)
wrong label          tIoU ``>= t`` with an other-class segment
localization error   ``t_low <= tIoU < t`` with a same-class segment
confusion            ``t_low <= tIoU < t`` with an other-class segment
background           tIoU ``< t_low`` with every segment of the video
===================  ====================================================

**Top-kG.** For class ``c`` with ``G_c`` ground-truth segments, the analysed
predictions are the ``k * G_c`` best-scored predictions of the class (the
paper's "top-kG"; its false-positive profile shows ``k = 1..10``). Classes
without ground truth contribute nothing (they are not part of the mAP
either). A ground-truth segment is a **false negative at top-kG** when no
prediction among the top-kG of its class matched it.

**Removal gain** of an error type: the mAP at ``t`` after deleting every
prediction of that type (from the whole ranking, not only the top-kG) minus
the mAP at ``t`` of all predictions. Deleting an unmatched prediction never
changes which predictions match, so only the precision before each true
positive changes. ``all false positives`` deletes the five types at once.
"""
from collections import OrderedDict
from typing import Dict, Mapping, NamedTuple, Sequence, Tuple, Union

import numpy as np

from .ap import mean_average_precision
from ...ops.tiou import pairwise_tiou_np

__all__ = [
    'CATEGORIES', 'ERROR_TYPES', 'CATEGORY_NAMES', 'LENGTH_BINS',
    'COUNT_BINS', 'PredictionCategories', 'classify_predictions',
    'false_positive_profile', 'false_negative_rates', 'removal_gains',
    'bin_names', 'analyze_errors'
]

#: Category codes, in precedence order (index = code).
CATEGORIES = ('true_positive', 'double_detection', 'wrong_label',
              'localization', 'confusion', 'background')
ERROR_TYPES = CATEGORIES[1:]
CATEGORY_NAMES = OrderedDict([
    ('true_positive', 'true positive'),
    ('double_detection', 'double detection'),
    ('wrong_label', 'wrong label'),
    ('localization', 'localization error'),
    ('confusion', 'confusion'),
    ('background', 'background'),
])
TP, DOUBLE, WRONG, LOC, CONF, BG = range(6)

#: Upper edges (seconds) of the action-length bins XS (0, 2], S (2, 4],
#: M (4, 8], L (8, 16], the last bin XL (16, inf).
LENGTH_BINS = (2.0, 4.0, 8.0, 16.0)
#: Upper edges of the bins of "instances of the segment's class in its
#: video": 1, 2-4, 5-8, 9-16, > 16.
COUNT_BINS = (1, 4, 8, 16)


class PredictionCategories(NamedTuple):
    """Every prediction and ground-truth segment, flattened.

    Predictions (``P`` rows, videos in mapping order, rows in input order):
    ``pred_video [P]`` index into ``videos``, ``pred_row [P]`` row in its
    video, ``pred_label [P]``, ``pred_score [P]``, ``category [P]`` (code
    into :data:`CATEGORIES`), ``rank [P]`` (0-based position in its class's
    score order), ``matched_gt [P]`` (index into the ground-truth rows, -1).

    Ground truth (``N`` rows): ``gt_video [N]``, ``gt_label [N]``,
    ``gt_length [N]`` seconds, ``gt_count [N]`` (segments of the same class
    in the same video, itself included), ``gt_rank [N]`` (rank of the
    prediction that matched it; ``inf`` when none).

    ``num_gt [C]``: ground-truth segments a class.
    """
    videos: Tuple[str, ...]
    pred_video: np.ndarray
    pred_row: np.ndarray
    pred_label: np.ndarray
    pred_score: np.ndarray
    category: np.ndarray
    rank: np.ndarray
    matched_gt: np.ndarray
    gt_video: np.ndarray
    gt_label: np.ndarray
    gt_length: np.ndarray
    gt_count: np.ndarray
    gt_rank: np.ndarray
    num_gt: np.ndarray
    tiou: float
    low_tiou: float


def _num_classes(classes) -> int:
    return classes if isinstance(classes, (int, np.integer)) else len(classes)


def _check_tiou(tiou: float, low_tiou: float) -> None:
    if not 0 < tiou <= 1:
        raise ValueError(f'tiou must be in (0, 1], got {tiou}')
    if not 0 <= low_tiou <= tiou:
        raise ValueError(f'low_tiou must be in [0, tiou], got {low_tiou}')


def _classify_video(segs, labels, scores, gt_segs, gt_labels, tiou,
                    low_tiou):
    """Category ``[M]`` and matched ground-truth index ``[M]`` (-1) in one
    video."""
    m, k = segs.shape[0], gt_segs.shape[0]
    matched = np.full(m, -1, dtype=np.int64)
    if m == 0:
        return np.zeros(0, dtype=np.int64), matched
    if k == 0:
        return np.full(m, BG, dtype=np.int64), matched
    iou = pairwise_tiou_np(segs, gt_segs)  # [M, K]
    same = labels[:, None] == gt_labels[None, :]
    best_same = np.where(same, iou, -1.0).max(axis=1)
    best_other = np.where(same, -1.0, iou).max(axis=1)
    # greedy matching in score order (the AP's rule); only predictions that
    # reach t with some same-class segment can match
    hit = iou >= tiou
    taken = np.zeros(k, dtype=bool)
    order = np.argsort(-scores, kind='stable')
    for i in order[best_same[order] >= tiou]:
        ok = same[i] & hit[i] & ~taken
        if ok.any():
            j = int(np.where(ok, iou[i], -np.inf).argmax())
            taken[j] = True
            matched[i] = j
    category = np.select(
        [matched >= 0, best_same >= tiou, best_other >= tiou,
         best_same >= low_tiou, best_other >= low_tiou],
        [TP, DOUBLE, WRONG, LOC, CONF], default=BG)
    return category.astype(np.int64), matched


def _video_arrays(video, gt, preds, n_cls: int):
    """One video's ground truth and predictions as checked numpy arrays
    (empty where the video is absent from one side)."""
    g_segs, g_labels = gt.get(video, (np.zeros((0, 2)),
                                      np.zeros(0, dtype=np.int64)))
    g_segs = np.asarray(g_segs, dtype=np.float64).reshape(-1, 2)
    g_labels = np.asarray(g_labels, dtype=np.int64).reshape(-1)
    p_segs, p_labels, p_scores = preds.get(
        video, (np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0)))
    p_segs = np.asarray(p_segs, dtype=np.float64).reshape(-1, 2)
    p_labels = np.asarray(p_labels, dtype=np.int64).reshape(-1)
    p_scores = np.asarray(p_scores, dtype=np.float64).reshape(-1)
    if not p_segs.shape[0] == p_labels.size == p_scores.size:
        raise ValueError(f'video {video!r}: {p_segs.shape[0]} segments, '
                         f'{p_labels.size} labels, {p_scores.size} '
                         f'scores')
    for what, lab in (('ground truth', g_labels), ('prediction', p_labels)):
        if lab.size and (lab.min() < 0 or lab.max() >= n_cls):
            raise ValueError(f'video {video!r}: {what} label outside '
                             f'the {n_cls} classes')
    return g_segs, g_labels, p_segs, p_labels, p_scores


def _class_ranks(pred_label: np.ndarray, pred_score: np.ndarray):
    """Rank of each prediction inside its class. A stable sort by
    (class, -score) keeps the flattened order (videos in mapping order,
    then rows) among ties, which is the AP's order."""
    order = np.lexsort((-pred_score, pred_label))
    sorted_labels = pred_label[order]
    first = np.searchsorted(sorted_labels, sorted_labels, side='left')
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size) - first
    return rank


def classify_predictions(gt: Mapping[str, Tuple[np.ndarray, np.ndarray]],
                         preds: Mapping[str, Tuple[np.ndarray, np.ndarray,
                                                   np.ndarray]],
                         classes: Union[int, Sequence[str]],
                         tiou: float = 0.5,
                         low_tiou: float = 0.1) -> PredictionCategories:
    """Category, class rank and match of every prediction (module doc).

    Predictions of videos absent from ``gt`` are background (as in the AP,
    where they are false positives); restrict ``preds`` beforehand to leave
    them out. ``videos`` lists the videos of ``preds`` then those only in
    ``gt``.
    """
    _check_tiou(tiou, low_tiou)
    n_cls = _num_classes(classes)
    # predictions' mapping order first: the AP breaks score ties across
    # videos in that order
    videos = list(preds) + [v for v in gt if v not in preds]
    gt_parts, pred_parts = [], []
    gt_offset = 0
    for vi, video in enumerate(videos):
        g_segs, g_labels, p_segs, p_labels, p_scores = _video_arrays(
            video, gt, preds, n_cls)
        cat, matched = _classify_video(p_segs, p_labels, p_scores, g_segs,
                                       g_labels, tiou, low_tiou)
        pred_parts.append((np.full(p_labels.size, vi), np.arange(
            p_labels.size), p_labels, p_scores, cat,
                           np.where(matched >= 0, matched + gt_offset, -1)))
        counts = np.bincount(g_labels, minlength=n_cls)[g_labels]
        gt_parts.append((np.full(g_labels.size, vi), g_labels,
                         g_segs[:, 1] - g_segs[:, 0], counts))
        gt_offset += g_labels.size

    def cat_(parts, i, dtype):
        return np.concatenate([p[i] for p in parts]).astype(dtype) \
            if parts else np.zeros(0, dtype)

    pred_video, pred_row = cat_(pred_parts, 0, np.int64), cat_(
        pred_parts, 1, np.int64)
    pred_label, pred_score = cat_(pred_parts, 2, np.int64), cat_(
        pred_parts, 3, np.float64)
    category, matched_gt = cat_(pred_parts, 4, np.int64), cat_(
        pred_parts, 5, np.int64)
    gt_video, gt_label = cat_(gt_parts, 0, np.int64), cat_(
        gt_parts, 1, np.int64)
    gt_length, gt_count = cat_(gt_parts, 2, np.float64), cat_(
        gt_parts, 3, np.int64)

    rank = _class_ranks(pred_label, pred_score)
    gt_rank = np.full(gt_label.size, np.inf)
    tp = matched_gt >= 0
    gt_rank[matched_gt[tp]] = rank[tp]
    num_gt = np.bincount(gt_label, minlength=n_cls)
    return PredictionCategories(tuple(videos), pred_video, pred_row,
                                pred_label, pred_score, category, rank,
                                matched_gt, gt_video, gt_label, gt_length,
                                gt_count, gt_rank, num_gt, float(tiou),
                                float(low_tiou))


def false_positive_profile(cats: PredictionCategories,
                           multiples: Sequence[int] = tuple(range(1, 11))
                           ) -> np.ndarray:
    """Counts ``[len(multiples), 6]``: per top-kG, the analysed predictions
    of each category (columns in :data:`CATEGORIES` order), summed over the
    classes with ground truth."""
    mult = np.asarray(multiples, dtype=np.int64).reshape(-1)
    limit = mult[:, None] * cats.num_gt[cats.pred_label][None, :]  # [K, P]
    inside = cats.rank[None, :] < limit
    onehot = cats.category[:, None] == np.arange(len(CATEGORIES))[None, :]
    return inside.astype(np.int64) @ onehot.astype(np.int64)


def bin_names(edges: Sequence[float], unit: str = '',
              integer: bool = False) -> Tuple[str, ...]:
    """Labels of the bins ``(0, e0]``, ``(e0, e1]``, ..., ``> e_last``;
    with ``integer`` the whole numbers they hold (``1``, ``2-4``, ...)."""
    fmt = '{:g}'.format
    out, lo = [], 0
    for e in edges:
        if integer:
            a, b = int(np.floor(lo)) + 1, int(np.floor(e))
            out.append(f'{a}{unit}' if a == b else f'{a}-{b}{unit}')
        else:
            out.append(f'({fmt(lo)}, {fmt(e)}]{unit}')
        lo = e
    out.append(f'> {fmt(lo)}{unit}')
    return tuple(out)


def false_negative_rates(cats: PredictionCategories,
                         edges: Sequence[float],
                         by: str = 'length',
                         top_multiple: int = 1
                         ) -> Tuple[np.ndarray, np.ndarray]:
    """False-negative rate of the ground truth in each bin at top-kG.

    Args:
        edges: increasing upper bin edges; bin ``i`` is ``(edges[i-1],
            edges[i]]`` (``edges[-1] = 0``) and a last bin ``> edges[-1]``.
        by: ``'length'`` (seconds) or ``'count'`` (segments of the same
            class in the same video).
        top_multiple: ``k`` of top-kG.

    Returns:
        ``(rate [n_bins], total [n_bins])``: the fraction missed (NaN for an
        empty bin) and the segments in each bin.
    """
    if by not in ('length', 'count'):
        raise ValueError(f"by must be 'length' or 'count', got {by!r}")
    edges = np.asarray(edges, dtype=np.float64).reshape(-1)
    if edges.size and np.any(np.diff(edges) <= 0):
        raise ValueError(f'bin edges must increase, got {edges.tolist()}')
    value = cats.gt_length if by == 'length' else cats.gt_count
    bins = np.searchsorted(edges, value, side='left')  # (lo, hi] bins
    missed = cats.gt_rank >= top_multiple * cats.num_gt[cats.gt_label]
    n = edges.size + 1
    total = np.bincount(bins, minlength=n)
    miss = np.bincount(bins, weights=missed.astype(np.float64), minlength=n)
    rate = np.full(n, np.nan)
    np.divide(miss, total, out=rate, where=total > 0)
    return rate, total


def _subset(preds, cats: PredictionCategories, keep: np.ndarray):
    """``preds`` without the predictions where ``keep`` is False."""
    out = {}
    for vi, video in enumerate(cats.videos):
        if video not in preds:
            continue
        segs, labels, scores = preds[video]
        rows = cats.pred_row[(cats.pred_video == vi) & keep]
        out[video] = (np.asarray(segs, dtype=np.float64).reshape(-1, 2)[rows],
                      np.asarray(labels).reshape(-1)[rows],
                      np.asarray(scores).reshape(-1)[rows])
    return out


def removal_gains(gt, preds, classes, cats: PredictionCategories
                  ) -> 'OrderedDict[str, float]':
    """mAP at ``cats.tiou`` of all predictions (key ``'base'``), then, per
    error type and for ``'all_false_positives'``, the mAP gain (fraction, not
    percent) when those predictions are deleted."""
    thr = [cats.tiou]
    base = float(mean_average_precision(gt, preds, classes, thr)[0][0])
    out = OrderedDict(base=base)
    for code, name in enumerate(CATEGORIES):
        if code == TP:
            continue
        kept = _subset(preds, cats, cats.category != code)
        out[name] = float(
            mean_average_precision(gt, kept, classes, thr)[0][0]) - base
    kept = _subset(preds, cats, cats.category == TP)
    out['all_false_positives'] = float(
        mean_average_precision(gt, kept, classes, thr)[0][0]) - base
    return out


def analyze_errors(gt,
                   preds,
                   classes,
                   tiou: float = 0.5,
                   low_tiou: float = 0.1,
                   top_multiple: int = 1,
                   profile_multiples: Sequence[int] = tuple(range(1, 11)),
                   length_bins: Sequence[float] = LENGTH_BINS,
                   count_bins: Sequence[float] = COUNT_BINS,
                   gains: bool = True) -> Dict[str, object]:
    """Everything :mod:`tools/analyze_errors.py` reports, as plain numbers.

    Returns a dict:

    * ``tiou``, ``low_tiou``, ``top_multiple``, ``num_gt`` (segments of the
      classes with ground truth), ``num_predictions``;
    * ``breakdown``: ``{category: count}`` among the top-kG
      (``k = top_multiple``), and ``analysed`` (their number);
    * ``profile``: ``{'multiples': [...], 'counts': [[6 counts] a k]}``;
    * ``fn_length`` / ``fn_count``: ``{'bins': names, 'edges', 'rate',
      'total'}`` at top-kG;
    * ``gains`` (when ``gains``): :func:`removal_gains`.
    """
    cats = classify_predictions(gt, preds, classes, tiou, low_tiou)
    mult = [int(k) for k in profile_multiples]
    if any(k < 1 for k in mult) or int(top_multiple) < 1:
        raise ValueError('top-kG multiples must be >= 1')
    counts = false_positive_profile(cats, [int(top_multiple)])[0]
    out = OrderedDict(
        tiou=float(tiou), low_tiou=float(low_tiou),
        top_multiple=int(top_multiple),
        num_gt=int(cats.num_gt.sum()),
        num_predictions=int(cats.category.size),
        analysed=int(counts.sum()),
        breakdown=OrderedDict(
            (name, int(n)) for name, n in zip(CATEGORIES, counts)),
        profile=dict(multiples=mult,
                     counts=false_positive_profile(cats, mult).tolist()))
    for key, edges, by in (('fn_length', length_bins, 'length'),
                           ('fn_count', count_bins, 'count')):
        rate, total = false_negative_rates(cats, edges, by, top_multiple)
        names = bin_names(edges, ' s') if by == 'length' else bin_names(
            edges, integer=True)
        out[key] = dict(bins=list(names),
                        edges=[float(e) for e in edges],
                        rate=[None if np.isnan(r) else float(r)
                              for r in rate],
                        total=[int(t) for t in total])
    if gains:
        out['gains'] = removal_gains(gt, preds, classes, cats)
    return out
