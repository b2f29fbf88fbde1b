"""Parsing and validation of the point-supervised TAL annotation files: the
one parser of ``gt_full.json``, the point CSV and the split files, used by
the dataset, ``tools/eval_map.py``, ``tools/make_point_labels.py`` and the
synthetic generator, so that every tool accepts and rejects the same files.

Files (see ``docs/method.md``, "Data"):

- ``gt_full.json``: ``{"database": {video: {"subset", "duration", "fps",
  "num_frames" (optional), "annotations": [{"label", "segment"}]}}}``
- ``point_labels/point_gaussian.csv``: columns ``class, video_id, point``
  (required), ``class_index``, ``start_frame``, ``stop_frame`` (optional).
- ``split_*.txt``: one video name a line.
- features: ``<dir>/<video>.npy`` ``[T, D]`` or ``<dir>/rgb/<video>.npy`` and
  ``<dir>/flow/<video>.npy`` (concatenated rgb first).

Rules (each broken one is a :class:`DataError` naming the file, the video
or CSV row, and what was expected):

- text files are UTF-8; a UTF-8 byte-order mark at the start is accepted
  (read as ``utf-8-sig``); other bytes are refused with their byte offset
  and line;
- every video entry has an ``"annotations"`` list (``[]`` for a video
  without actions); every annotation has a ``"label"`` string and a
  ``"segment"`` of two numbers (not strings) with ``0 <= start < end``, and
  ``end`` at most :data:`SEGMENT_END_TOLERANCE_S` seconds past the video's
  ``"duration"`` (the videos of :data:`KNOWN_PAST_END` excepted); a key
  given twice in one JSON object is refused;
- a split file lists a video once; a point's video is in the annotations.

A missing file raises :class:`MissingFileError`, which is both a
``DataError`` and a ``FileNotFoundError``.
"""
import csv
import difflib
import glob
import io
import json
import math
import numbers
import os.path as osp
from collections import Counter
from typing import (Callable, Dict, List, Mapping, NamedTuple, Optional,
                    Sequence, Tuple)

import numpy as np

__all__ = [
    'DataError', 'MissingFileError', 'PointRow', 'VideoAnnotation',
    'resolve_path', 'read_text', 'load_split', 'load_gt_database',
    'check_video_entry', 'annotation_classes', 'parse_video_annotation',
    'video_segments', 'load_point_csv', 'check_point_videos',
    'classes_from_class_index', 'frame_to_snippet', 'feature_layout',
    'feature_paths_for', 'check_feature_file', 'check_feature_array',
    'check_features_finite', 'load_feature_file', 'transposed_hint',
    'common_feature_width', 'infer_feat_dim', 'REQUIRED_CSV_COLUMNS',
    'SEGMENT_END_TOLERANCE_S', 'KNOWN_PAST_END'
]

REQUIRED_CSV_COLUMNS = ('class', 'video_id', 'point')

#: seconds a ground-truth segment may end after the video's ``duration``
#: (rounding of the end time or of the duration; GTEA has one 0.07 s over)
SEGMENT_END_TOLERANCE_S = 1.0

#: Videos of the released THUMOS14 ``gt_full.json`` whose segments run past
#: the duration the file gives them (errors of the public annotations, kept
#: so that the published evaluation is reproduced): video -> that duration.
#: They are accepted only with exactly this duration.
KNOWN_PAST_END: Mapping[str, float] = {
    'video_test_0000270': 176.25,
    'video_test_0000814': 181.24,
    'video_test_0001081': 117.24,
    'video_validation_0000364': 112.64,
    'video_validation_0000856': 83.15,
}


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


def read_text(path: str, what: str = 'file') -> str:
    """The text of a UTF-8 file (a leading byte-order mark is dropped).

    Raises :class:`MissingFileError` if there is no such file and
    :class:`DataError` naming the byte offset and line of the first byte that
    is not UTF-8.
    """
    _require_file(path, what)
    with open(path, 'rb') as f:
        raw = f.read()
    try:
        return raw.decode('utf-8-sig')
    except UnicodeDecodeError as e:
        line = raw.count(b'\n', 0, e.start) + 1
        hint = ''
        if raw[:2] in (b'\xff\xfe', b'\xfe\xff'):
            hint = ' (it starts with a UTF-16 byte-order mark)'
        raise DataError(
            f'{path}: {what} is not UTF-8 text: byte 0x{raw[e.start]:02x} at '
            f'byte offset {e.start} (line {line}) is not valid UTF-8{hint}; '
            'save the file as UTF-8') from None


def _lines(text: str) -> List[str]:
    """Lines split at ``\\n`` only (``\\r`` dropped), so that line numbers are
    those of an editor."""
    return [ln[:-1] if ln.endswith('\r') else ln for ln in text.split('\n')]


def _keys(d: dict) -> str:
    return ', '.join(repr(str(k)) for k in d) or 'none'


def _misspelt(wanted: str, d: dict) -> str:
    close = difflib.get_close_matches(wanted, [str(k) for k in d], n=1,
                                      cutoff=0.6)
    return f'; is {close[0]!r} misspelt?' if close else ''


def _is_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


# --------------------------------------------------------------------- split
def load_split(path: str) -> List[str]:
    """Video names of a split file, one a line (blank lines ignored).

    Raises on a missing, empty or non-UTF-8 file and on a name listed twice.
    """
    text = read_text(path, 'split file')
    names: List[str] = []
    first_line: Dict[str, int] = {}
    for lineno, line in enumerate(_lines(text), 1):
        name = line.strip()
        if not name:
            continue
        if name in first_line:
            raise DataError(
                f'{path}: line {lineno}: video {name!r} is listed twice '
                f'(first on line {first_line[name]}); a split file lists '
                'each video once')
        first_line[name] = lineno
        names.append(name)
    if not names:
        raise DataError(f'{path}: split file is empty (expected one video '
                        'name a line)')
    return names


# --------------------------------------------------------------------- JSON
class _DuplicateKey(Exception):
    pass


def _no_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def load_gt_database(path: str,
                     allow_past_end: Optional[Mapping[str, float]] = None
                     ) -> Dict[str, dict]:
    """The ``database`` mapping of ``gt_full.json``, every video's entry
    checked by :func:`check_video_entry` (so a file is accepted or refused
    as a whole, whichever split a tool reads)."""
    text = read_text(path, 'annotation file')
    if not text.strip():
        raise DataError(f'{path}: annotation file is empty')
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as e:
        raise DataError(f'{path}: malformed JSON at line {e.lineno} column '
                        f'{e.colno}: {e.msg}') from None
    except _DuplicateKey as e:
        raise DataError(
            f'{path}: key {e.args[0]!r} appears twice in one JSON object '
            '(the second would silently replace the first); give each video '
            'and each field once') from None
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
        check_video_entry(entry, video, path, allow_past_end)
    return database


def _number(value, path: str, video: str, key: str) -> Optional[float]:
    if value is None:
        return None
    if not _is_number(value):
        raise DataError(f'{path}: video {video!r}: "{key}" must be a number, '
                        f'got {value!r}')
    out = float(value)
    if not math.isfinite(out):
        raise DataError(f'{path}: video {video!r}: "{key}" is not finite: '
                        f'{value!r}')
    return out


def _pair(seg, where: str, key: str) -> Tuple[float, float]:
    """Two finite numbers (not strings, not booleans)."""
    unit = 'frames' if 'frames' in key else 's'
    expected = f'expected [start_{unit}, end_{unit}], two numbers'
    if not isinstance(seg, (list, tuple)) or len(seg) != 2:
        raise DataError(f'{where}: "{key}" must be a list of two numbers, '
                        f'got {seg!r}; {expected}')
    if any(isinstance(x, str) for x in seg):
        raise DataError(f'{where}: "{key}" {list(seg)!r} holds strings; '
                        f'{expected} (write 1.5, not "1.5")')
    if not all(_is_number(x) for x in seg):
        raise DataError(f'{where}: "{key}" {list(seg)!r} is not numeric; '
                        f'{expected}')
    start, end = float(seg[0]), float(seg[1])
    if not (math.isfinite(start) and math.isfinite(end)):
        raise DataError(f'{where}: "{key}" {list(seg)!r} is not finite; '
                        f'{expected}')
    return start, end


def check_video_entry(entry, video: str, path: str,
                      allow_past_end: Optional[Mapping[str, float]] = None
                      ) -> List[Tuple[float, float, str]]:
    """Check one video's entry of ``gt_full.json`` (the rules of the module
    docstring); returns its ``(start_s, end_s, label)`` in file order.

    ``allow_past_end``: ``{video: duration}`` whose segments may end past
    that duration (default :data:`KNOWN_PAST_END`).
    """
    where = f'{path}: video {video!r}'
    if not isinstance(entry, dict):
        raise DataError(f'{where}: entry must be an object, got '
                        f'{type(entry).__name__}')
    duration = _number(entry.get('duration'), path, video, 'duration')
    if duration is not None and duration <= 0:
        raise DataError(f'{where}: "duration" must be > 0, got {duration:g}')
    for key in ('fps', 'num_frames'):
        value = _number(entry.get(key), path, video, key)
        if value is not None and value <= 0:
            raise DataError(f'{where}: "{key}" must be > 0, got {value:g}')
    if 'annotations' not in entry:
        raise DataError(
            f'{where}: no "annotations" key (the entry has {_keys(entry)}'
            f'{_misspelt("annotations", entry)}); every video needs '
            '"annotations": [...], [] for a video without actions')
    anns = entry['annotations']
    if not isinstance(anns, list):
        raise DataError(f'{where}: "annotations" must be a list, got '
                        f'{type(anns).__name__}')
    allowed = KNOWN_PAST_END if allow_past_end is None else allow_past_end
    past_end_ok = (duration is not None and video in allowed
                   and abs(float(allowed[video]) - duration) < 1e-3)
    out = []
    for i, ann in enumerate(anns):
        if not isinstance(ann, dict):
            raise DataError(f'{where}: annotation {i} must be an object with '
                            f'"label" and "segment", got {ann!r}')
        if 'label' not in ann:
            raise DataError(
                f'{where}: annotation {i} has no "label" key (it has '
                f'{_keys(ann)}{_misspelt("label", ann)}); expected "label": '
                'a class name')
        label = ann['label']
        if not isinstance(label, str) or not label.strip():
            raise DataError(f'{where}: annotation {i}: "label" must be a '
                            f'class name (a non-empty string), got {label!r}')
        here = f'{where}: annotation {i} ({label})'
        if 'segment' not in ann:
            raise DataError(
                f'{here}: no "segment" key (it has {_keys(ann)}'
                f'{_misspelt("segment", ann)}); expected "segment": '
                '[start_s, end_s]')
        seg = ann['segment']
        start, end = _pair(seg, here, 'segment')
        if start < 0:
            raise DataError(f'{here}: segment {list(seg)!r} starts before 0 s; '
                            'expected 0 <= start < end')
        if end < start:
            raise DataError(f'{here}: segment {list(seg)!r} is reversed (end '
                            f'{end:g} s < start {start:g} s); expected '
                            '[start_s, end_s] with start < end')
        if end == start:
            raise DataError(f'{here}: segment {list(seg)!r} has zero length '
                            f'(start = end = {start:g} s); expected start < '
                            'end')
        if (duration is not None and not past_end_ok
                and end > duration + SEGMENT_END_TOLERANCE_S):
            raise DataError(
                f'{here}: segment {list(seg)!r} runs past the video\'s end: '
                f'{end:g} s > "duration" {duration:g} s (tolerance '
                f'{SEGMENT_END_TOLERANCE_S:g} s); fix the segment or the '
                'duration')
        if ann.get('segment(frames)') is not None:
            fs, fe = _pair(ann['segment(frames)'], here, 'segment(frames)')
            if fe < fs or fs < 0:
                raise DataError(
                    f'{here}: "segment(frames)" {ann["segment(frames)"]!r} '
                    'is reversed or negative; expected 0 <= start <= end')
        label_id = ann.get('label_id')
        if label_id is not None and not (
                _is_number(label_id) and float(label_id).is_integer()):
            raise DataError(f'{here}: "label_id" must be an integer, got '
                            f'{label_id!r}')
        out.append((start, end, label))
    return out


def annotation_classes(database: Dict[str, dict]) -> Dict[str, str]:
    """Class name -> the first video (in file order) annotated with it."""
    first: Dict[str, str] = {}
    for video, entry in database.items():
        for ann in entry.get('annotations', []):
            first.setdefault(ann['label'], video)
    return first


def _entry(database: Dict[str, dict], video: str, path: str) -> dict:
    if video not in database:
        raise DataError(f'{path}: video {video!r} is not in "database"')
    return database[video]


def video_segments(database: Dict[str, dict], video: str, path: str,
                   allow_past_end: Optional[Mapping[str, float]] = None
                   ) -> Tuple[np.ndarray, List[str]]:
    """Checked ground truth of one video: segments float64 ``[N, 2]``
    seconds and their labels (no fps needed, unlike
    :func:`parse_video_annotation`)."""
    items = check_video_entry(_entry(database, video, path), video, path,
                              allow_past_end)
    segs = np.asarray([(s, e) for s, e, _ in items],
                      dtype=np.float64).reshape(-1, 2)
    return segs, [c for _, _, c in items]


def parse_video_annotation(database: Dict[str, dict], video: str,
                           path: str,
                           allow_past_end: Optional[Mapping[str, float]] = None
                           ) -> VideoAnnotation:
    """Parse and check one video's entry of ``gt_full.json``.

    fps comes from ``"fps"``, else ``num_frames / duration``; neither is an
    error. ``duration`` may be missing (``None`` is returned).
    """
    entry = _entry(database, video, path)
    items = check_video_entry(entry, video, path, allow_past_end)
    duration = _number(entry.get('duration'), path, video, 'duration')
    fps = _number(entry.get('fps'), path, video, 'fps')
    if fps is None:
        num_frames = _number(entry.get('num_frames'), path, video,
                             'num_frames')
        if num_frames is None or duration is None:
            raise DataError(
                f'{path}: video {video!r}: no "fps", and fps cannot be '
                'computed (needs both "num_frames" and "duration")')
        fps = num_frames / duration
    seg_arr = np.asarray([(s, e) for s, e, _ in items],
                         dtype=np.float32).reshape(-1, 2)
    return VideoAnnotation(video, entry.get('subset'), duration, float(fps),
                           seg_arr, [c for _, _, c in items])


# ---------------------------------------------------------------------- CSV
def load_point_csv(path: str, database: Optional[Dict[str, dict]] = None,
                   ann_path: Optional[str] = None
                   ) -> Tuple[List[PointRow], bool]:
    """Rows of the point CSV and whether it has a ``class_index`` column.

    With ``database`` (from :func:`load_gt_database` of ``ann_path``), a
    point whose video is not in it is an error (:func:`check_point_videos`).
    """
    text = read_text(path, 'point label CSV')
    reader = csv.reader(io.StringIO(text, newline=''))
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
    dup = sorted({c for c in header if c and header.count(c) > 1})
    if dup:
        raise DataError(f'{path}: point label CSV names column(s) '
                        f'{", ".join(dup)} twice (header: {",".join(header)})')
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
    if database is not None:
        check_point_videos(rows, database, path, ann_path)
    return rows, has_index


def check_point_videos(rows: Sequence[PointRow], database: Dict[str, dict],
                       path: str, ann_path: Optional[str] = None) -> None:
    """Every point's video is in the annotations (a point of another video
    is an error, never dropped)."""
    absent = [r for r in rows if r.video not in database]
    if absent:
        videos = sorted({r.video for r in absent})
        r = absent[0]
        raise DataError(
            f'{path}: row {r.row}: point of video {r.video!r}, which is not '
            f'in {ann_path or "the annotation file"} ({len(absent)} row(s) of '
            f'{len(videos)} such video(s): {", ".join(videos[:5])}'
            f'{", ..." if len(videos) > 5 else ""}); every point needs its '
            'video in the annotations')


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


def _one_line(err: Exception) -> str:
    return ' '.join(str(err).split())


def transposed_hint(shape: Sequence[int], feat_dim: Optional[int]) -> str:
    """``'; it looks transposed: ...'`` when a ``[T, D]`` array of width
    ``feat_dim`` seems stored as ``[D, T]`` (its first dimension is
    ``feat_dim``, its second is not), else ``''``."""
    shape = tuple(int(x) for x in shape)
    if (feat_dim is None or len(shape) != 2 or shape[1] == feat_dim
            or shape[0] != feat_dim):
        return ''
    return (f'; it looks transposed: shape {shape} is [D, T] with D = '
            f'{feat_dim}, expected [T, D] = {(shape[1], shape[0])} '
            '(save array.T)')


def check_feature_array(shape: Sequence[int], dtype, path: str,
                        video: Optional[str] = None) -> Tuple[int, int]:
    """The structural checks of a feature array, by shape and dtype: 2-D,
    floating, ``T >= 1`` and ``D >= 1``. Returns ``(T, D)``. The one place
    of these checks for the dataset, the loading transform and inference."""
    who = f' (video {video})' if video else ''
    shape = tuple(int(x) for x in shape)
    if len(shape) != 2:
        raise DataError(f'{path}: feature array{who} must be 2-D [T, D], got '
                        f'shape {shape}')
    if not np.issubdtype(dtype, np.floating):
        raise DataError(f'{path}: feature array{who} must have a float dtype, '
                        f'got {dtype}')
    if shape[0] < 1 or shape[1] < 1:
        raise DataError(f'{path}: feature array{who} is empty, shape '
                        f'{shape}')
    return shape


def check_features_finite(arr: np.ndarray, path: str) -> None:
    """Every value finite; else the first bad snippet is named."""
    finite = np.isfinite(arr)
    if not finite.all():
        bad_rows = np.flatnonzero(~finite.all(axis=1))
        raise DataError(
            f'{path}: features contain NaN or inf; first bad snippet '
            f'{int(bad_rows[0])} ({len(bad_rows)} bad snippet(s) of '
            f'{arr.shape[0]})')


def _not_an_array(path: str, obj, who: str) -> DataError:
    return DataError(f'{path}: not a .npy array file{who} (it holds a '
                     f'{type(obj).__name__}); expected one float [T, D] '
                     'array saved with numpy.save')


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
                        f'file{who}: {_one_line(e)}') from None
    if not isinstance(arr, np.ndarray):  # an .npz archive
        close = getattr(arr, 'close', None)
        if close is not None:
            close()
        raise _not_an_array(path, arr, who)
    try:
        shape, dtype = tuple(arr.shape), arr.dtype
    finally:
        mm = getattr(arr, '_mmap', None)
        del arr
        if mm is not None:
            mm.close()
    return check_feature_array(shape, dtype, path, video)


def load_feature_file(path: str, video: Optional[str] = None,
                      read: Optional[Callable[[str], object]] = None
                      ) -> np.ndarray:
    """Read one ``.npy`` feature file fully and check it (the checks of
    :func:`check_feature_array`, then every value finite). Returns a
    contiguous float32 ``[T, D]`` array. ``read`` replaces
    ``numpy.load(path, allow_pickle=False)``."""
    who = f' (video {video})' if video else ''
    try:
        arr = (read or (lambda p: np.load(p, allow_pickle=False)))(path)
    except FileNotFoundError:
        raise MissingFileError(f'{path}: feature file{who} not found; '
                               f'expected layout {EXPECTED_LAYOUT}') from None
    except Exception as e:
        raise DataError(f'{path}: unreadable or truncated .npy feature '
                        f'file{who}: {_one_line(e)}') from None
    if not isinstance(arr, np.ndarray):
        close = getattr(arr, 'close', None)
        if close is not None:
            close()
        raise _not_an_array(path, arr, who)
    check_feature_array(arr.shape, arr.dtype, path, video)
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    check_features_finite(arr, path)
    return arr


def _width_scores(widths: Sequence[int], firsts: Sequence[Optional[int]]
                  ) -> int:
    """The width most files agree on. A file whose first dimension equals
    another width counts half a vote for that width (it looks transposed);
    ties go to the width seen first."""
    counts = Counter(widths)
    order = list(dict.fromkeys(widths))

    def score(w):
        hits = sum(1 for d, t in zip(widths, firsts) if d != w and t == w)
        return counts[w] + 0.5 * hits

    return max(order, key=lambda w: (score(w), -order.index(w)))


def common_feature_width(items: Sequence[Tuple[str, Sequence[str],
                                               Sequence[Tuple[int, int]]]],
                         feat_dim: Optional[int] = None,
                         source: str = 'the config') -> int:
    """The feature width ``D`` of a set of videos, naming the file that
    disagrees, never a good neighbour.

    Args:
        items: ``(video, paths, shapes)`` a video; ``shapes`` are the
            ``(T, D)`` of its files (one, or rgb then flow: the width is
            their sum).
        feat_dim: the expected width, if given (``source`` says by what).
            Else the width most videos have (see :func:`_width_scores`).

    Raises:
        DataError: for the first video (in order) of another width:
            ``<files>: wrong feature dimension for video V: got d, expected
            D ...``, with ``it looks transposed`` where the file's first
            dimension is ``D``.
    """
    widths = [int(sum(d for _, d in shapes)) for _, _, shapes in items]
    firsts = [shapes[0][0] if len(shapes) == 1 else None
              for _, _, shapes in items]
    if not items:
        if feat_dim is None:
            raise DataError('no feature file to read the feature width from')
        return int(feat_dim)
    if feat_dim is not None:
        expected = int(feat_dim)
        expected_text = f'feat_dim={expected} from {source}'
    else:
        expected = _width_scores(widths, firsts)
        ref = items[widths.index(expected)][1][0]
        agree = widths.count(expected)
        expected_text = f'{expected}, as in {ref}'
        if agree < len(items):
            expected_text += (f' ({agree} of {len(items)} videos have width '
                              f'{expected})')
    for (video, paths, shapes), d in zip(items, widths):
        if d == expected:
            continue
        hint = transposed_hint(shapes[0], expected) if len(shapes) == 1 \
            else ''
        raise DataError(f'{" + ".join(paths)}: wrong feature dimension for '
                        f'video {video}: got {d}, expected {expected_text}'
                        f'{hint}')
    return expected


def infer_feat_dim(feature_dir_path: str, max_files: int = 64) -> int:
    """Feature dimension D of the ``.npy`` files under ``feature_dir_path``
    (for the rgb/flow layout, D_rgb + D_flow): the width most of the first
    ``max_files`` files (sorted by name) have, so that one odd file (e.g. a
    transposed first file) does not set it; the dataset then names that
    file."""
    layout = feature_layout(feature_dir_path)
    sub = osp.join(feature_dir_path, 'rgb') if layout == 'rgb_flow' \
        else feature_dir_path
    files = sorted(glob.glob(osp.join(sub, '*.npy')))
    if not files:
        raise MissingFileError(f'{sub}: no .npy feature file found '
                               f'(expected {EXPECTED_LAYOUT})')
    widths, firsts = [], []
    for path in files[:max_files]:
        video = osp.splitext(osp.basename(path))[0]
        shapes = [
            check_feature_file(p, video)
            for p in feature_paths_for(feature_dir_path, video, layout)
        ]
        widths.append(int(sum(d for _, d in shapes)))
        firsts.append(shapes[0][0] if len(shapes) == 1 else None)
    return int(_width_scores(widths, firsts))
