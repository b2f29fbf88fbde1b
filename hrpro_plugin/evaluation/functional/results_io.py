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
* ``gt_full.json`` + ``split_*.txt`` (docs/method.md, "Data").
* ``Ambiguous_test.txt``: ``video start_s end_s`` lines.

Per-video arrays: segments ``float64 [M, 2]`` seconds, labels ``int64 [M]``
(indices into the class list), scores ``float64 [M]``.
"""
import json
import math
import numbers
import os
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    'load_results', 'write_results', 'load_ambiguous', 'load_ground_truth',
    'read_split'
]


def _is_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _read_json(path: str, what: str):
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} file not found: {path}')
    with open(path, encoding='utf-8') as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f'{path}: not valid JSON ({e})') from None


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
        raise ValueError(f'{path}: expected an object with a "results" '
                         f'object mapping video names to lists of entries')
    index = {name: i for i, name in enumerate(classes)}
    out = {}
    for video, entries in data['results'].items():
        if not isinstance(entries, list):
            raise ValueError(f'{path}: video {video!r}: expected a list of '
                             f'entries, got {type(entries).__name__}')
        segs = np.zeros((len(entries), 2), dtype=np.float64)
        labels = np.zeros(len(entries), dtype=np.int64)
        scores = np.zeros(len(entries), dtype=np.float64)
        for i, entry in enumerate(entries):
            where = f'{path}: video {video!r}, entry {i}'
            if not isinstance(entry, dict):
                raise ValueError(f'{where}: expected an object with "label", '
                                 f'"segment", "score"')
            missing = [
                k for k in ('label', 'segment', 'score') if k not in entry
            ]
            if missing:
                raise ValueError(f'{where}: missing field(s) {missing}')
            label, seg, score = entry['label'], entry['segment'], entry[
                'score']
            if not isinstance(label, str) or label not in index:
                raise ValueError(f'{where}: unknown class label {label!r}')
            if (not isinstance(seg, (list, tuple)) or len(seg) != 2 or
                    not all(_is_number(x) and math.isfinite(x) for x in seg)):
                raise ValueError(f'{where}: segment must be two finite '
                                 f'numbers [start, end], got {seg!r}')
            s, e = float(seg[0]), float(seg[1])
            if s < 0:
                raise ValueError(f'{where}: negative segment start {seg!r}')
            if e <= s:
                raise ValueError(f'{where}: segment {seg!r} is reversed or '
                                 f'empty (end <= start)')
            if not _is_number(score) or not math.isfinite(score):
                raise ValueError(f'{where}: score must be a finite number, '
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
        raise FileNotFoundError(f'ambiguous-segment file not found: {path}')
    out: Dict[str, List[Tuple[float, float]]] = {}
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            where = f'{path}, line {n}: {line.rstrip()!r}'
            if len(fields) != 3:
                raise ValueError(f'{where}: expected "video start end"')
            try:
                s, e = float(fields[1]), float(fields[2])
            except ValueError:
                raise ValueError(f'{where}: start and end must be numbers') \
                    from None
            if not (math.isfinite(s) and math.isfinite(e)) or e < s:
                raise ValueError(f'{where}: invalid segment [{s}, {e}]')
            out.setdefault(fields[0], []).append((s, e))
    return {
        v: np.asarray(x, dtype=np.float64).reshape(-1, 2)
        for v, x in out.items()
    }


def read_split(path: str) -> List[str]:
    """Video names of a split file (one a line, blank lines skipped)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'split file not found: {path}')
    with open(path, encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip()]


def load_ground_truth(
    gt_json: str,
    split_file: str,
    classes: Optional[Sequence[str]] = None
) -> Tuple[Dict[str, Tuple[np.ndarray, np.ndarray]], List[str]]:
    """Ground truth of the videos listed in ``split_file``.

    Args:
        gt_json: ``gt_full.json`` (``{"database": {video: {"annotations":
            [{"label", "segment"}]}}}``).
        split_file: one video name a line; each must be in the database.
        classes: class list; default: the sorted labels of the whole
            database (all subsets, so the list is the same for every split).

    Returns:
        tuple: ``({video: (segments [N, 2], labels [N])}, classes)`` in split
        order. A listed video without annotations has empty arrays.
    """
    data = _read_json(gt_json, 'ground-truth')
    db = data.get('database') if isinstance(data, dict) else None
    if not isinstance(db, dict):
        raise ValueError(f'{gt_json}: expected an object with a "database" '
                         f'object')
    if classes is None:
        classes = sorted({
            a['label']
            for v in db.values()
            for a in v.get('annotations', [])
        })
    classes = list(classes)
    index = {c: i for i, c in enumerate(classes)}
    gt = {}
    for video in read_split(split_file):
        if video not in db:
            raise ValueError(f'{split_file}: video {video!r} is not in '
                             f'{gt_json}')
        anns = db[video].get('annotations', [])
        segs = np.zeros((len(anns), 2), dtype=np.float64)
        labels = np.zeros(len(anns), dtype=np.int64)
        for i, a in enumerate(anns):
            if a['label'] not in index:
                raise ValueError(f'{gt_json}: video {video!r}, annotation '
                                 f'{i}: label {a["label"]!r} not in the '
                                 f'class list')
            segs[i] = [float(x) for x in a['segment']]
            labels[i] = index[a['label']]
        gt[video] = (segs, labels)
    return gt, classes
