"""Parsing and validation of the point-supervised TAL annotation files.

Files (see ``docs/method.md``, "Data"):

- ``gt_full.json``: ``{"database": {video: {"subset", "duration", "fps",
  "num_frames" (optional), "annotations": [{"label", "segment"}]}}}``
- ``point_labels/point_gaussian.csv``: columns ``class, video_id, point``
  (required), ``class_index``, ``start_frame``, ``stop_frame`` (optional).
- ``split_*.txt``: one video name a line.
- features: ``<dir>/<video>.npy`` ``[T, D]`` or ``<dir>/rgb/<video>.npy`` and
  ``<dir>/flow/<video>.npy`` (concatenated rgb first).

Every problem raises :class:`DataError` (a ``ValueError``) whose message
starts with the file it concerns and names the video / CSV row and what is
wrong. A missing file raises :class:`MissingFileError`, which is both a
``DataError`` and a ``FileNotFoundError``.
"""
import csv
import glob
import json
import math
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    'DataError', 'MissingFileError', 'PointRow', 'VideoAnnotation',
    'resolve_path', 'load_split', 'load_gt_database', 'annotation_classes',
    'parse_video_annotation', 'load_point_csv', 'classes_from_class_index',
    'frame_to_snippet', 'feature_layout', 'feature_paths_for',
    'check_feature_file', 'infer_feat_dim', 'REQUIRED_CSV_COLUMNS'
]

REQUIRED_CSV_COLUMNS = ('class', 'video_id', 'point')


class DataError(ValueError):
    """Invalid or inconsistent dataset files (annotations, points, splits,
    features). The message names the file, the video or CSV row, and what is
    wrong."""


class MissingFileError(DataError, FileNotFoundError):
    """A file the dataset needs does not exist."""


class PointRow(NamedTuple):
    """One data row of the point CSV."""
    row: int  # 1-based data row (the header is not counted)
    video: str
    label: str
    class_index: Optional[int]
    frame: float


class VideoAnnotation(NamedTuple):
    """The parsed ``gt_full.json`` entry of one video."""
    video: str
    subset: Optional[str]
    duration: Optional[float]  # seconds; None where the file has none
    fps: float
    segments: np.ndarray  # [N, 2] float32 seconds
    labels: List[str]  # [N] class names


def resolve_path(data_root: Optional[str], path: str) -> str:
    """``path`` if absolute (or no ``data_root``), else ``data_root/path``."""
    path = osp.expanduser(str(path))
    if osp.isabs(path) or not data_root:
        return path
    return osp.join(osp.expanduser(str(data_root)), path)


def _require_file(path: str, what: str) -> None:
    if not osp.isfile(path):
        raise MissingFileError(f'{path}: {what} not found')


# --------------------------------------------------------------------- split
def load_split(path: str) -> List[str]:
    """Video names of a split file, one a line (blank lines ignored).

    Raises on a missing or empty file and on a name listed twice.
    """
    _require_file(path, 'split file')
    names: List[str] = []
    first_line: Dict[str, int] = {}
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            name = line.strip()
            if not name:
                continue
            if name in first_line:
                raise DataError(
                    f'{path}: line {lineno}: video {name!r} is listed twice '
                    f'(first on line {first_line[name]})')
            first_line[name] = lineno
            names.append(name)
    if not names:
        raise DataError(f'{path}: split file is empty (expected one video '
                        'name a line)')
    return names


# --------------------------------------------------------------------- JSON
def load_gt_database(path: str) -> Dict[str, dict]:
    """The ``database`` mapping of ``gt_full.json`` (structure checked)."""
    _require_file(path, 'annotation file')
    with open(path, encoding='utf-8') as f:
        text = f.read()
    if not text.strip():
        raise DataError(f'{path}: annotation file is empty')
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f'{path}: malformed JSON at line {e.lineno} column '
                        f'{e.colno}: {e.msg}') from None
    if not isinstance(data, dict) or 'database' not in data:
        raise DataError(f'{path}: expected a JSON object with a "database" '
                        'key (video name -> {subset, duration, fps, '
                        'annotations})')
    database = data['database']
    if not isinstance(database, dict):
        raise DataError(f'{path}: "database" must be an object mapping video '
                        f'names to entries, got {type(database).__name__}')
    if not database:
        raise DataError(f'{path}: "database" holds no videos')
    for video, entry in database.items():
        if not isinstance(entry, dict):
            raise DataError(f'{path}: video {video!r}: entry must be an '
                            f'object, got {type(entry).__name__}')
        anns = entry.get('annotations', [])
        if not isinstance(anns, list):
            raise DataError(f'{path}: video {video!r}: "annotations" must be '
                            f'a list, got {type(anns).__name__}')
        for i, ann in enumerate(anns):
            if not isinstance(ann, dict) or not isinstance(
                    ann.get('label'), str) or not ann.get('label'):
                raise DataError(f'{path}: video {video!r}: annotation {i} '
                                'has no "label" string')
    return database


def annotation_classes(database: Dict[str, dict]) -> Dict[str, str]:
    """Class name -> the first video (in file order) annotated with it."""
    first: Dict[str, str] = {}
    for video, entry in database.items():
        for ann in entry.get('annotations', []):
            first.setdefault(ann['label'], video)
    return first


def _number(value, path: str, video: str, key: str) -> Optional[float]:
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise DataError(f'{path}: video {video!r}: "{key}" is not a number: '
                        f'{value!r}') from None
    if not math.isfinite(out):
        raise DataError(f'{path}: video {video!r}: "{key}" is not finite: '
                        f'{value!r}')
    return out


def parse_video_annotation(database: Dict[str, dict], video: str,
                           path: str) -> VideoAnnotation:
    """Parse and check one video's entry of ``gt_full.json``.

    fps comes from ``"fps"``, else ``num_frames / duration``; neither is an
    error. ``duration`` may be missing (``None`` is returned).
    """
    if video not in database:
        raise DataError(f'{path}: video {video!r} is not in "database"')
    entry = database[video]
    duration = _number(entry.get('duration'), path, video, 'duration')
    if duration is not None and duration <= 0:
        raise DataError(f'{path}: video {video!r}: "duration" must be > 0, '
                        f'got {duration}')
    fps = _number(entry.get('fps'), path, video, 'fps')
    if fps is None:
        num_frames = _number(entry.get('num_frames'), path, video,
                             'num_frames')
        if num_frames is None or duration is None:
            raise DataError(
                f'{path}: video {video!r}: no "fps", and fps cannot be '
                'computed (needs both "num_frames" and "duration")')
        fps = num_frames / duration
    if fps <= 0:
        raise DataError(f'{path}: video {video!r}: fps must be > 0, got '
                        f'{fps}')
    segments, labels = [], []
    for i, ann in enumerate(entry.get('annotations', [])):
        seg = ann.get('segment')
        if not isinstance(seg, (list, tuple)) or len(seg) != 2:
            raise DataError(f'{path}: video {video!r}: annotation {i} '
                            f'({ann["label"]}): "segment" must be [start_s, '
                            f'end_s], got {seg!r}')
        try:
            start, end = float(seg[0]), float(seg[1])
        except (TypeError, ValueError):
            raise DataError(f'{path}: video {video!r}: annotation {i}: '
                            f'segment {seg!r} is not numeric') from None
        if not (math.isfinite(start) and math.isfinite(end)) or end < start:
            raise DataError(f'{path}: video {video!r}: annotation {i} '
                            f'({ann["label"]}): invalid segment {seg!r} '
                            '(need finite start <= end)')
        segments.append((start, end))
        labels.append(ann['label'])
    seg_arr = np.asarray(segments, dtype=np.float32).reshape(-1, 2)
    return VideoAnnotation(video, entry.get('subset'), duration, float(fps),
                           seg_arr, labels)


# ---------------------------------------------------------------------- CSV
def load_point_csv(path: str) -> Tuple[List[PointRow], bool]:
    """Rows of the point CSV and whether it has a ``class_index`` column."""
    _require_file(path, 'point label CSV')
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.reader(f)
        header = None
        for header in reader:
            if any(cell.strip() for cell in header):
                break
        else:
            header = None
        if header is None:
            raise DataError(f'{path}: point label CSV is empty (expected a '
                            'header with columns '
                            f'{", ".join(REQUIRED_CSV_COLUMNS)})')
        header = [h.strip() for h in header]
        missing = [c for c in REQUIRED_CSV_COLUMNS if c not in header]
        if missing:
            raise DataError(f'{path}: point label CSV lacks column(s) '
                            f'{", ".join(missing)} (header: '
                            f'{",".join(header)})')
        col = {name: header.index(name) for name in header}
        has_index = 'class_index' in col
        rows: List[PointRow] = []
        data_row = 0
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            data_row += 1
            if len(cells) != len(header):
                raise DataError(f'{path}: row {data_row}: expected '
                                f'{len(header)} fields, got {len(cells)}')
            video = cells[col['video_id']].strip()
            label = cells[col['class']].strip()
            if not video or not label:
                raise DataError(f'{path}: row {data_row}: empty video_id or '
                                'class')
            raw = cells[col['point']].strip()
            try:
                frame = float(raw)
            except ValueError:
                raise DataError(f'{path}: row {data_row} (video {video}): '
                                f'point {raw!r} is not a number') from None
            if not math.isfinite(frame):
                raise DataError(f'{path}: row {data_row} (video {video}): '
                                f'point {raw!r} is not finite')
            index = None
            if has_index:
                raw_idx = cells[col['class_index']].strip()
                try:
                    index = int(raw_idx)
                except ValueError:
                    raise DataError(
                        f'{path}: row {data_row} (video {video}): '
                        f'class_index {raw_idx!r} is not an integer') from None
            rows.append(PointRow(data_row, video, label, index, frame))
    if not rows:
        raise DataError(f'{path}: point label CSV has a header but no data '
                        'rows')
    return rows, has_index


def classes_from_class_index(rows: Sequence[PointRow], path: str) -> List[str]:
    """Class list ordered by ``class_index`` (which must be a one-to-one map
    onto 0..K-1)."""
    by_name: Dict[str, Tuple[int, int]] = {}
    by_index: Dict[int, Tuple[str, int]] = {}
    for r in rows:
        if r.label in by_name and by_name[r.label][0] != r.class_index:
            raise DataError(
                f'{path}: row {r.row}: class {r.label!r} has class_index '
                f'{r.class_index}, but {by_name[r.label][0]} on row '
                f'{by_name[r.label][1]}')
        if r.class_index in by_index and by_index[r.class_index][0] != r.label:
            raise DataError(
                f'{path}: row {r.row}: class_index {r.class_index} is given '
                f'to class {r.label!r}, but to {by_index[r.class_index][0]!r} '
                f'on row {by_index[r.class_index][1]}')
        by_name.setdefault(r.label, (r.class_index, r.row))
        by_index.setdefault(r.class_index, (r.label, r.row))
    indices = sorted(by_index)
    if indices != list(range(len(indices))):
        missing = sorted(set(range(max(indices) + 1)) - set(indices))
        raise DataError(
            f'{path}: class_index values must be 0..K-1 without gaps; got '
            f'{len(indices)} classes with indices {indices[0]}..{indices[-1]}'
            + (f' (missing {missing[:10]})' if missing else ''))
    return [by_index[i][0] for i in indices]


def frame_to_snippet(frame: float, fps: float, feature_fps: float,
                     snippet_frames: int, num_snippets: int) -> int:
    """Snippet of a native-fps frame: ``int(f * feature_fps / (fps *
    snippet_frames))`` clamped to ``[0, num_snippets - 1]``."""
    idx = int(frame * feature_fps / (fps * snippet_frames))
    return max(0, min(idx, num_snippets - 1))


# ----------------------------------------------------------------- features
EXPECTED_LAYOUT = ('<feature_dir>/<video>.npy (one float [T, D] array a '
                   'video) or <feature_dir>/rgb/<video>.npy and '
                   '<feature_dir>/flow/<video>.npy (concatenated rgb first)')


def feature_layout(feature_dir: str) -> str:
    """``'rgb_flow'`` if ``feature_dir`` has ``rgb/`` and ``flow/``
    sub-folders, else ``'single'``."""
    if not osp.isdir(feature_dir):
        raise MissingFileError(f'{feature_dir}: feature folder not found '
                               f'(expected {EXPECTED_LAYOUT})')
    if osp.isdir(osp.join(feature_dir, 'rgb')) and osp.isdir(
            osp.join(feature_dir, 'flow')):
        return 'rgb_flow'
    return 'single'


def feature_paths_for(feature_dir: str, video: str, layout: str) -> List[str]:
    """The file(s) holding one video's features, in concatenation order."""
    if layout == 'rgb_flow':
        return [
            osp.join(feature_dir, 'rgb', video + '.npy'),
            osp.join(feature_dir, 'flow', video + '.npy')
        ]
    return [osp.join(feature_dir, video + '.npy')]


def check_feature_file(path: str, video: Optional[str] = None
                       ) -> Tuple[int, int]:
    """Cheap check (memory-mapped header read) of one ``.npy`` feature file:
    exists, not truncated, 2-D, floating dtype, T >= 1. Returns ``(T, D)``.
    """
    who = f' (video {video})' if video else ''
    if not osp.isfile(path):
        raise MissingFileError(f'{path}: feature file{who} not found; '
                               f'expected layout {EXPECTED_LAYOUT}')
    try:
        arr = np.load(path, mmap_mode='r', allow_pickle=False)
    except Exception as e:  # truncated, not .npy, object dtype, ...
        raise DataError(f'{path}: unreadable or truncated .npy feature '
                        f'file{who}: {e}') from None
    try:
        shape, dtype = tuple(arr.shape), arr.dtype
    finally:
        mm = getattr(arr, '_mmap', None)
        del arr
        if mm is not None:
            mm.close()
    if len(shape) != 2:
        raise DataError(f'{path}: feature array{who} must be 2-D [T, D], got '
                        f'shape {shape}')
    if not np.issubdtype(dtype, np.floating):
        raise DataError(f'{path}: feature array{who} must have a float dtype, '
                        f'got {dtype}')
    if shape[0] < 1 or shape[1] < 1:
        raise DataError(f'{path}: feature array{who} is empty, shape '
                        f'{shape}')
    return int(shape[0]), int(shape[1])


def infer_feat_dim(feature_dir_path: str) -> int:
    """Feature dimension D of the first ``.npy`` (sorted by name) under
    ``feature_dir_path``; for the rgb/flow layout, D_rgb + D_flow."""
    layout = feature_layout(feature_dir_path)
    sub = osp.join(feature_dir_path, 'rgb') if layout == 'rgb_flow' \
        else feature_dir_path
    files = sorted(glob.glob(osp.join(sub, '*.npy')))
    if not files:
        raise MissingFileError(f'{sub}: no .npy feature file found '
                               f'(expected {EXPECTED_LAYOUT})')
    video = osp.splitext(osp.basename(files[0]))[0]
    dims = [
        check_feature_file(p, video)[1]
        for p in feature_paths_for(feature_dir_path, video, layout)
    ]
    return int(sum(dims))

