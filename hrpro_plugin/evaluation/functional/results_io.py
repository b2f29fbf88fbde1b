"""Read and write the files of temporal action localization scoring.

Pure Python + NumPy (no framework), so ``tools/eval_map.py`` and the metric
read and write exactly the same things.

* results JSON (ActivityNet format)::

      {"version": "HR-Pro",
       "results": {video: [{"label": class name, "segment": [s, e],
                            "score": x}, ...]},
       "external_data": {}}

  Video names are kept verbatim (nothing is stripped, unlike mmaction2's
  ActivityNet evaluation, which drops the first two characters).
* ``gt_full.json`` + ``split_*.txt`` (docs/method.md, "Data"), read by the
  dataset's parser (:mod:`hrpro_plugin.datasets.parsers`), so that
  ``tools/eval_map.py`` accepts and refuses exactly what the dataset does.
* ``Ambiguous_test.txt``: ``video start_s end_s`` lines.

Text files are UTF-8 (a leading byte-order mark is accepted); errors are
:class:`~hrpro_plugin.datasets.parsers.errors.DataError` (a
``ValueError``) naming the file, and
:class:`~hrpro_plugin.datasets.parsers.errors.MissingFileError` (also a
``FileNotFoundError``) for a missing file.

Per-video arrays: segments ``float64 [M, 2]`` seconds, labels ``int64 [M]``
(indices into the class list), scores ``float64 [M]``.
"""
import json
import math
import numbers
import os
import os.path as osp
from typing import (Dict, Iterable, List, Mapping, Optional, Sequence,
                    Tuple)

import numpy as np

from ...datasets.parsers.errors import DataError, MissingFileError
from ...datasets.parsers.gt_database import load_gt_database, video_segments
from ...datasets.parsers.splits import load_split
from ...datasets.parsers.text_files import read_text

__all__ = [
    'load_results', 'write_results', 'load_ambiguous', 'load_ground_truth',
    'read_split', 'refuse_overwriting_inputs', 'config_input_files'
]


def _is_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _read_json(path: str, what: str):
    if not osp.isfile(path):
        raise MissingFileError(f'{what} file not found: {path}')
    text = read_text(path, f'{what} file')
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f'{path}: not valid JSON ({e})') from None


def load_results(
    path: str, classes: Sequence[str]
) -> Dict[str, Tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Read an ActivityNet-format results file.

    Args:
        path: the JSON file.
        classes: class names; ``label`` fields must be one of them.

    Returns:
        dict: ``{video: (segments [M, 2], labels [M], scores [M])}``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: malformed JSON or structure, an unknown class label, a
            segment that is not two finite numbers, starts below 0 or has
            ``end <= start`` (reversed or empty), a score that is not a finite
            number. The message names the video and the entry index.
    """
    data = _read_json(path, 'results')
    if not isinstance(data, dict) or not isinstance(data.get('results'), dict):
        raise DataError(f'{path}: expected an object with a "results" '
                         f'object mapping video names to lists of entries')
    index = {name: i for i, name in enumerate(classes)}
    out = {}
    for video, entries in data['results'].items():
        if not isinstance(entries, list):
            raise DataError(f'{path}: video {video!r}: expected a list of '
                             f'entries, got {type(entries).__name__}')
        segs = np.zeros((len(entries), 2), dtype=np.float64)
        labels = np.zeros(len(entries), dtype=np.int64)
        scores = np.zeros(len(entries), dtype=np.float64)
        for i, entry in enumerate(entries):
            where = f'{path}: video {video!r}, entry {i}'
            if not isinstance(entry, dict):
                raise DataError(f'{where}: expected an object with "label", '
                                 f'"segment", "score"')
            missing = [
                k for k in ('label', 'segment', 'score') if k not in entry
            ]
            if missing:
                raise DataError(f'{where}: missing field(s) {missing}')
            label, seg, score = entry['label'], entry['segment'], entry[
                'score']
            if not isinstance(label, str) or label not in index:
                raise DataError(f'{where}: unknown class label {label!r}')
            if (not isinstance(seg, (list, tuple)) or len(seg) != 2 or
                    not all(_is_number(x) and math.isfinite(x) for x in seg)):
                raise DataError(f'{where}: segment must be two finite '
                                 f'numbers [start, end], got {seg!r}')
            s, e = float(seg[0]), float(seg[1])
            if s < 0:
                raise DataError(f'{where}: negative segment start {seg!r}')
            if e <= s:
                raise DataError(f'{where}: segment {seg!r} is reversed or '
                                 f'empty (end <= start)')
            if not _is_number(score) or not math.isfinite(score):
                raise DataError(f'{where}: score must be a finite number, '
                                 f'got {score!r}')
            segs[i] = (s, e)
            labels[i] = index[label]
            scores[i] = float(score)
        out[video] = (segs, labels, scores)
    return out


def write_results(path: str,
                  per_video: Mapping[str, Tuple[np.ndarray, np.ndarray,
                                                np.ndarray]],
                  classes: Sequence[str],
                  version: str = 'HR-Pro') -> None:
    """Write ``{video: (segments [M, 2], labels [M], scores [M])}`` as an
    ActivityNet results file (entries in the given order; a video without
    predictions gets an empty list). Parent folders are created."""
    results = {}
    for video, (segs, labels, scores) in per_video.items():
        segs = np.asarray(segs, dtype=np.float64).reshape(-1, 2)
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        if not segs.shape[0] == labels.size == scores.size:
            raise ValueError(f'video {video!r}: {segs.shape[0]} segments, '
                             f'{labels.size} labels, {scores.size} scores')
        if labels.size and (labels.min() < 0 or labels.max() >= len(classes)):
            raise ValueError(f'video {video!r}: label outside the '
                             f'{len(classes)} classes')
        results[str(video)] = [
            dict(label=classes[int(c)],
                 segment=[float(s), float(e)],
                 score=float(x)) for (s, e), c, x in zip(segs, labels, scores)
        ]
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(dict(version=version, results=results, external_data={}), f)


def load_ambiguous(path: str) -> Dict[str, np.ndarray]:
    """Read ``video start end`` lines (whitespace separated; blank lines
    skipped) into ``{video: segments [K, 2]}`` seconds.

    Raises:
        FileNotFoundError: no such file (the message names it).
        ValueError: a line without exactly three fields, or non-numeric or
            reversed times (the message names the file and line number).
    """
    if not osp.isfile(path):
        raise MissingFileError(f'ambiguous-segment file not found: {path}')
    out: Dict[str, List[Tuple[float, float]]] = {}
    text = read_text(path, 'ambiguous-segment file')
    for n, line in enumerate(text.split('\n'), 1):
        fields = line.split()
        if not fields:
            continue
        where = f'{path}, line {n}: {line.rstrip()!r}'
        if len(fields) != 3:
            raise DataError(f'{where}: expected "video start end"')
        try:
            s, e = float(fields[1]), float(fields[2])
        except ValueError:
            raise DataError(f'{where}: start and end must be numbers') \
                from None
        if not (math.isfinite(s) and math.isfinite(e)) or e < s:
            raise DataError(f'{where}: invalid segment [{s}, {e}]')
        out.setdefault(fields[0], []).append((s, e))
    return {
        v: np.asarray(x, dtype=np.float64).reshape(-1, 2)
        for v, x in out.items()
    }


def read_split(path: str) -> List[str]:
    """Video names of a split file (one a line, blank lines skipped): the
    dataset's :func:`~hrpro_plugin.datasets.parsers.splits.load_split` (a name
    listed twice, an empty or non-UTF-8 file are errors)."""
    return load_split(path)


def load_ground_truth(
    gt_json: str,
    split_file: str,
    classes: Optional[Sequence[str]] = None
) -> Tuple[Dict[str, Tuple[np.ndarray, np.ndarray]], List[str]]:
    """Ground truth of the videos listed in ``split_file``.

    Args:
        gt_json: ``gt_full.json`` (``{"database": {video: {"annotations":
            [{"label", "segment"}]}}}``), read and checked by the dataset's
            parser (:func:`~hrpro_plugin.datasets.parsers.gt_database.
            load_gt_database`): a reversed, empty or string segment, one past
            the video's end, a missing ``annotations`` or ``label`` key are
            errors here as in training.
        split_file: one video name a line, each once; each must be in the
            database.
        classes: class list; default: the sorted labels of the whole
            database (all subsets, so the list is the same for every split).

    Returns:
        tuple: ``({video: (segments [N, 2], labels [N])}, classes)`` in split
        order. A listed video without annotations has empty arrays.
    """
    db = load_gt_database(gt_json)
    videos = load_split(split_file)
    absent = [v for v in videos if v not in db]
    if absent:
        raise DataError(
            f'{split_file}: {len(absent)} video(s) of the split are not in '
            f'{gt_json}: {", ".join(absent[:20])}'
            f'{", ..." if len(absent) > 20 else ""}')
    if classes is None:
        classes = sorted({
            a['label']
            for v in db.values()
            for a in v['annotations']
        })
    classes = list(classes)
    index = {c: i for i, c in enumerate(classes)}
    gt = {}
    for video in videos:
        segs, names = video_segments(db, video, gt_json)
        labels = np.zeros(len(names), dtype=np.int64)
        for i, name in enumerate(names):
            if name not in index:
                raise DataError(f'{gt_json}: video {video!r}, annotation '
                                f'{i}: label {name!r} not in the class list')
            labels[i] = index[name]
        gt[video] = (segs, labels)
    return gt, classes


def refuse_overwriting_inputs(out_path: str,
                              inputs: Iterable[Optional[str]],
                              flag: str = '--out') -> None:
    """Raise :class:`DataError` if ``out_path`` is one of ``inputs`` (the
    same file by real path, or by ``os.path.samefile`` for hard links), or
    an existing folder. ``None`` entries and inputs that do not exist are
    ignored.

    Example (tools/test.py)::

        refuse_overwriting_inputs(args.out, [args.config, args.checkpoint,
                                             *config_input_files(cfg)])
    """
    if out_path is None:
        return
    out = osp.realpath(osp.expanduser(str(out_path)))
    if osp.isdir(out):
        raise DataError(f'{flag} {out_path} is a folder; expected a file '
                        'path')
    for path in inputs:
        if path is None:
            continue
        src = osp.realpath(osp.expanduser(str(path)))
        same = src == out
        if not same and osp.exists(out) and osp.exists(src):
            try:
                same = osp.samefile(out, src)
            except OSError:
                same = False
        if same:
            raise DataError(
                f'{flag} {out_path} is an input of this run ({path}); '
                'writing there would replace it: choose another file')


def config_input_files(cfg) -> List[str]:
    """The files a config's datasets and evaluators read (annotation, split
    and point files of every dataloader, ambiguous-segment files), with
    ``data_root`` applied: the inputs an output must not replace."""
    from ...datasets.parsers.text_files import resolve_path
    found: List[str] = []

    def dataset_files(ds):
        if not isinstance(ds, Mapping):
            return
        if ds.get('type') == 'ConcatDataset' or 'datasets' in ds:
            for sub in ds.get('datasets') or []:
                dataset_files(sub)
        if 'dataset' in ds:  # wrappers (RepeatDataset, ...)
            dataset_files(ds['dataset'])
        root = ds.get('data_root') or ''
        for key in ('ann_file', 'split_file', 'point_file'):
            if isinstance(ds.get(key), str):
                found.append(resolve_path(root, ds[key]))

    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if isinstance(loader, Mapping):
            dataset_files(loader.get('dataset'))
    stage2 = (cfg.get('train_cfg') or {}).get('stage2_dataloader')
    if isinstance(stage2, Mapping):
        dataset_files(stage2.get('dataset'))
    for name in ('val_evaluator', 'test_evaluator'):
        evaluators = cfg.get(name)
        if isinstance(evaluators, Mapping):
            evaluators = [evaluators]
        for ev in evaluators or []:
            if isinstance(ev, Mapping) and isinstance(
                    ev.get('ambiguous_file'), str):
                found.append(ev['ambiguous_file'])
    return list(dict.fromkeys(found))
