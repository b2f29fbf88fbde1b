"""Detection mAP at several tIoU thresholds for temporal action localization.

``TALmAPMetric`` carries everything it scores (ground truth and predictions
of every sample, as NumPy arrays) in ``self.results``, so MMEngine's
``collect_results`` gathers all of it and the score is exact under
multi-process evaluation (mmaction2's ``ANetMetric`` keeps ground truth per
process and is not).
"""
import logging
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement
from terminaltables import AsciiTable

from mmaction.registry import METRICS
from ..functional.ap import (filter_ambiguous, mean_average_precision,
                             summarize_map)
from ..functional.results_io import load_ambiguous, write_results

DEFAULT_TIOU = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)

__all__ = ['TALmAPMetric', 'map_table', 'per_class_table', 'map_metrics']


def _avg_label(name: str) -> str:
    return 'avg (all)' if name == 'all' else f'avg [{name.replace("-", ":")}]'


def map_table(tiou_thresholds: Sequence[float],
              mean_ap: Sequence[float],
              title: str = 'mAP (%)') -> str:
    """ASCII table: one row per threshold, then the averages of
    :func:`summarize_map` (averages over [0.1:0.5], [0.3:0.7], [0.1:0.7]
    where evaluated, and over all thresholds). Values in percent."""
    mean_ap = 100 * np.asarray(mean_ap, dtype=np.float64)
    rows = [['tIoU', 'mAP (%)']]
    rows += [[f'{t:.2f}', f'{v:.2f}']
             for t, v in zip(tiou_thresholds, mean_ap)]
    averages = summarize_map(tiou_thresholds, mean_ap)
    averages.move_to_end('all')  # ranges first, the mean of all last
    for name, v in averages.items():
        rows.append([_avg_label(name), f'{v:.2f}'])
    table = AsciiTable(rows, title)
    table.inner_footing_row_border = False
    return table.table


def per_class_table(classes: Sequence[str], tiou_thresholds: Sequence[float],
                    ap: np.ndarray, valid: np.ndarray) -> str:
    """ASCII table of per-class AP (percent) at each threshold and averaged
    over thresholds; classes without ground truth show ``-`` (they are left
    out of the mAP)."""
    rows = [['class'] + [f'{t:.2f}' for t in tiou_thresholds] + ['avg']]
    for name, row, ok in zip(classes, 100 * np.asarray(ap), valid):
        if ok:
            rows.append([str(name)] + [f'{v:.2f}'
                                       for v in row] + [f'{row.mean():.2f}'])
        else:
            rows.append([str(name)] + ['-'] * (len(tiou_thresholds) + 1))
    return AsciiTable(rows, 'per-class AP (%)').table


def map_metrics(tiou_thresholds: Sequence[float],
                mean_ap: Sequence[float]) -> 'OrderedDict[str, float]':
    """Metric dict from an mAP curve (fractions in, percent out): keys
    ``mAP@0.10``, ... (threshold with two decimals), ``mAP_avg`` (mean over
    all thresholds) and ``mAP_avg_0.1-0.5``, ``mAP_avg_0.3-0.7``,
    ``mAP_avg_0.1-0.7`` when every threshold of the range is evaluated."""
    pct = 100 * np.asarray(mean_ap, dtype=np.float64)
    out = OrderedDict(
        (f'mAP@{t:.2f}', float(v)) for t, v in zip(tiou_thresholds, pct))
    for name, v in summarize_map(tiou_thresholds, pct).items():
        out['mAP_avg' if name == 'all' else f'mAP_avg_{name}'] = v
    return out


def _to_numpy(x, dtype) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def _get(obj, key):
    if obj is None:
        return None
    if isinstance(obj, (dict, BaseDataElement)):
        return obj.get(key, None)
    return getattr(obj, key, None)


@METRICS.register_module()
class TALmAPMetric(BaseMetric):
    """Temporal action localization mAP (docs/method.md, "Scoring").

    Per class, predictions sorted by score are greedily matched to unmatched
    ground truth of the same video at tIoU >= threshold; AP is the area under
    the interpolated precision envelope (ActivityNet); mAP is the mean over
    classes with ground truth in the evaluated set.

    **Units**: every returned value is in **percent** (0-100). Keys:
    ``mAP@0.10``, ``mAP@0.20``, ... (one per threshold, two decimals),
    ``mAP_avg`` (mean over all thresholds) and, when every threshold of the
    range is evaluated, ``mAP_avg_0.1-0.5``, ``mAP_avg_0.3-0.7``,
    ``mAP_avg_0.1-0.7``. No default prefix: with ``prefix='x'`` MMEngine
    reports ``x/mAP_avg`` etc.

    Args:
        tiou_thresholds (sequence[float]): tIoU thresholds.
            Defaults to 0.1, 0.2, ..., 0.7 (THUMOS14, GTEA, BEOID);
            ActivityNet uses 0.5, 0.55, ..., 0.95.
        ambiguous_file (str, optional): ``video start end`` lines; predictions
            overlapping (positive intersection length) an ambiguous segment
            of their video are dropped before scoring. A missing file raises
            FileNotFoundError at construction.
        ambiguous_rule (str): ``'overlap'`` (default, positive
            intersection length) or ``'reference'`` (the reference
            evaluator's whole-second test, which never drops a prediction
            shorter than a second); see ``functional.filter_ambiguous``.
        blocked_videos (sequence[str]): videos left out of the evaluated set.
        per_class (bool): also log a per-class AP table.
        out_file (str, optional): write the predictions (every scored video,
            blocked ones included, before ambiguous filtering, so that
            ``tools/eval_map.py`` with the same options reproduces the
            metric) as an ActivityNet results JSON.
        collect_device (str): 'cpu' or 'gpu', see ``BaseMetric``.
        prefix (str, optional): metric name prefix.
        collect_dir (str, optional): see ``BaseMetric``.

    ``process`` reads, from each data sample (``ActionDataSample`` or its
    dict): ``video_name``; ``gt_instances.segments`` ``[N, 2]`` seconds and
    ``gt_instances.labels`` ``[N]`` (taken from ``data_batch`` when the
    output sample lacks them); ``pred_instances.segments`` ``[M, 2]``
    seconds, ``.labels`` ``[M]``, ``.scores`` ``[M]`` (``M`` may be 0).
    Class names come from ``dataset_meta['classes']``, or, where no dataset
    set it (offline evaluation of a ``tools/test.py --dump`` file with
    MMAction2's ``eval_metric.py``), from the samples' ``classes`` key,
    which :class:`DumpTALResults` writes.
    """

    default_prefix: Optional[str] = ''

    def __init__(self,
                 tiou_thresholds: Sequence[float] = DEFAULT_TIOU,
                 ambiguous_file: Optional[str] = None,
                 ambiguous_rule: str = 'overlap',
                 blocked_videos: Sequence[str] = (),
                 per_class: bool = False,
                 out_file: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device,
                         prefix=prefix,
                         collect_dir=collect_dir)
        thr = [float(t) for t in np.atleast_1d(tiou_thresholds)]
        if not thr or any(not 0 < t <= 1 for t in thr):
            raise ValueError(f'tiou_thresholds must be non-empty, each in '
                             f'(0, 1]; got {tiou_thresholds!r}')
        self.tiou_thresholds = thr
        self.ambiguous_file = ambiguous_file
        if ambiguous_rule not in ('overlap', 'reference'):
            raise ValueError(f"ambiguous_rule must be 'overlap' or "
                             f"'reference', got {ambiguous_rule!r}")
        self.ambiguous_rule = ambiguous_rule
        self.ambiguous = (load_ambiguous(ambiguous_file)
                          if ambiguous_file else {})
        if isinstance(blocked_videos, str):
            blocked_videos = [blocked_videos]
        self.blocked_videos = set(str(v) for v in blocked_videos)
        self.per_class = per_class
        self.out_file = out_file

    # ------------------------------------------------------------------
    def process(self, data_batch: Any,
                data_samples: Sequence[Union[dict, BaseDataElement]]) -> None:
        """Store each sample's ground truth and predictions (NumPy)."""
        batch_samples = _get(data_batch, 'data_samples') if isinstance(
            data_batch, dict) else None
        for i, sample in enumerate(data_samples):
            video = _get(sample, 'video_name')
            if video is None:
                video = _get(_get(sample, 'metainfo'), 'video_name')
            if video is None:
                raise KeyError('TALmAPMetric: a data sample has no '
                               '"video_name" in its metainfo')
            gt = _get(sample, 'gt_instances')
            if gt is None and batch_samples is not None and i < len(
                    batch_samples):
                gt = _get(batch_samples[i], 'gt_instances')
            pred = _get(sample, 'pred_instances')
            missing = [
                name
                for name, x in (('gt_instances', gt), ('pred_instances', pred))
                if x is None
            ]
            if missing:
                raise KeyError(f'TALmAPMetric: sample {video!r} lacks '
                               f'{" and ".join(missing)}')
            record = dict(video_name=str(video))
            names = _get(sample, 'classes')
            if names is not None:
                record['classes'] = tuple(names)
            for prefix, inst, keys in (('gt', gt, ('segments', 'labels')),
                                       ('pred', pred, ('segments', 'labels',
                                                       'scores'))):
                for key in keys:
                    value = _get(inst, key)
                    if value is None:
                        raise KeyError(f'TALmAPMetric: sample {video!r}: '
                                       f'{prefix}_instances has no {key!r}')
                    if key == 'segments':
                        value = _to_numpy(value, np.float64).reshape(-1, 2)
                    elif key == 'labels':
                        value = _to_numpy(value, np.int64).reshape(-1)
                    else:
                        value = _to_numpy(value, np.float64).reshape(-1)
                    record[f'{prefix}_{key}'] = value
            n = record['pred_segments'].shape[0]
            if not n == record['pred_labels'].size == record[
                    'pred_scores'].size:
                raise ValueError(f'TALmAPMetric: sample {video!r}: '
                                 f'pred_instances fields differ in length')
            if record['gt_segments'].shape[0] != record['gt_labels'].size:
                raise ValueError(f'TALmAPMetric: sample {video!r}: '
                                 f'gt_instances fields differ in length')
            self.results.append(record)

    # ------------------------------------------------------------------
    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """mAP (percent) from the gathered records of every process."""
        classes = (self.dataset_meta or {}).get('classes')
        if classes is None:
            stored = {r['classes'] for r in results if 'classes' in r}
            if len(stored) > 1:
                raise ValueError('TALmAPMetric: the samples carry '
                                 f'{len(stored)} different class lists')
            classes = stored.pop() if stored else None
        if classes is None:
            raise ValueError(
                'TALmAPMetric needs the class names: dataset_meta["classes"] '
                "(set by the runner from the dataset's metainfo) or a "
                '"classes" key in the samples (tools/test.py --dump writes '
                'it)')
        classes = list(classes)

        records = OrderedDict()
        for r in results:  # the sampler may pad with repeated samples
            if r['video_name'] not in records:
                records[r['video_name']] = r
        gt, preds = OrderedDict(), OrderedDict()
        for video, r in records.items():
            preds[video] = (r['pred_segments'], r['pred_labels'],
                            r['pred_scores'])
            if video not in self.blocked_videos:
                gt[video] = (r['gt_segments'], r['gt_labels'])

        if self.out_file:
            write_results(self.out_file, preds, classes)
            print_log(f'TALmAPMetric: predictions written to {self.out_file}',
                      logger='current')

        preds = OrderedDict((v, p) for v, p in preds.items() if v in gt)
        if self.ambiguous:
            before = sum(p[2].size for p in preds.values())
            preds = filter_ambiguous(preds, self.ambiguous,
                                     self.ambiguous_rule)
            after = sum(p[2].size for p in preds.values())
            print_log(
                f'TALmAPMetric: dropped {before - after} of {before} '
                f'predictions overlapping ambiguous segments',
                logger='current')

        mean_ap, ap, valid = mean_average_precision(gt, preds, classes,
                                                    self.tiou_thresholds)
        if not valid.any():
            print_log(
                'TALmAPMetric: no ground-truth instance in the '
                f'{len(gt)} evaluated videos; mAP is NaN',
                logger='current',
                level=logging.WARNING)
        print_log(f'TALmAPMetric: {len(gt)} videos, {int(valid.sum())} '
                  f'classes with ground truth\n' +
                  map_table(self.tiou_thresholds, mean_ap),
                  logger='current')
        if self.per_class:
            print_log(
                '\n' +
                per_class_table(classes, self.tiou_thresholds, ap, valid),
                logger='current')
        return dict(map_metrics(self.tiou_thresholds, mean_ap))
