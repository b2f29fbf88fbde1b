"""``gt_full.json``: the one parser and checker of the ground-truth file.

``{"database": {video: {"subset", "duration", "fps", "num_frames"
(optional), "annotations": [{"label", "segment"}]}}}``. Rules (each broken
one is a :class:`~.errors.DataError` naming the file, the video and what
was expected):

- every video entry has an ``"annotations"`` list (``[]`` for a video
  without actions); every annotation has a ``"label"`` string and a
  ``"segment"`` of two numbers (not strings) with ``0 <= start < end``, and
  ``end`` at most :data:`SEGMENT_END_TOLERANCE_S` seconds past the video's
  ``"duration"`` (the videos of :data:`KNOWN_PAST_END` excepted);
- a key given twice in one JSON object is refused.
"""
import json
import math
from typing import Dict, List, Mapping, NamedTuple, Optional, Tuple

import numpy as np

from .errors import DataError, is_number, key_list, misspelt_hint
from .text_files import read_text

__all__ = [
    'VideoAnnotation', 'load_gt_database', 'check_video_entry',
    'annotation_classes', 'video_segments', 'parse_video_annotation',
    'SEGMENT_END_TOLERANCE_S', 'KNOWN_PAST_END'
]

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


class VideoAnnotation(NamedTuple):
    """The parsed ``gt_full.json`` entry of one video."""
    video: str
    subset: Optional[str]
    duration: Optional[float]  # seconds; None where the file has none
    fps: float
    segments: np.ndarray  # [N, 2] float32 seconds
    labels: List[str]  # [N] class names


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
    if not is_number(value):
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
    if not all(is_number(x) for x in seg):
        raise DataError(f'{where}: "{key}" {list(seg)!r} is not numeric; '
                        f'{expected}')
    start, end = float(seg[0]), float(seg[1])
    if not (math.isfinite(start) and math.isfinite(end)):
        raise DataError(f'{where}: "{key}" {list(seg)!r} is not finite; '
                        f'{expected}')
    return start, end


def _entry_fields(entry, video: str, path: str
                  ) -> Tuple[Optional[float], list]:
    """The checked ``duration`` (or None) and ``annotations`` list of one
    video's entry (``fps`` and ``num_frames`` are checked too)."""
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
            f'{where}: no "annotations" key (the entry has {key_list(entry)}'
            f'{misspelt_hint("annotations", entry)}); every video needs '
            '"annotations": [...], [] for a video without actions')
    anns = entry['annotations']
    if not isinstance(anns, list):
        raise DataError(f'{where}: "annotations" must be a list, got '
                        f'{type(anns).__name__}')
    return duration, anns


def _label(ann, i: int, where: str) -> str:
    if not isinstance(ann, dict):
        raise DataError(f'{where}: annotation {i} must be an object with '
                        f'"label" and "segment", got {ann!r}')
    if 'label' not in ann:
        raise DataError(
            f'{where}: annotation {i} has no "label" key (it has '
            f'{key_list(ann)}{misspelt_hint("label", ann)}); expected '
            '"label": a class name')
    label = ann['label']
    if not isinstance(label, str) or not label.strip():
        raise DataError(f'{where}: annotation {i}: "label" must be a '
                        f'class name (a non-empty string), got {label!r}')
    return label


def _segment(ann: dict, here: str, duration: Optional[float],
             past_end_ok: bool) -> Tuple[float, float]:
    if 'segment' not in ann:
        raise DataError(
            f'{here}: no "segment" key (it has {key_list(ann)}'
            f'{misspelt_hint("segment", ann)}); expected "segment": '
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
    return start, end


def _optional_fields(ann: dict, here: str) -> None:
    """``segment(frames)`` and ``label_id``, where given."""
    if ann.get('segment(frames)') is not None:
        fs, fe = _pair(ann['segment(frames)'], here, 'segment(frames)')
        if fe < fs or fs < 0:
            raise DataError(
                f'{here}: "segment(frames)" {ann["segment(frames)"]!r} '
                'is reversed or negative; expected 0 <= start <= end')
    label_id = ann.get('label_id')
    if label_id is not None and not (
            is_number(label_id) and float(label_id).is_integer()):
        raise DataError(f'{here}: "label_id" must be an integer, got '
                        f'{label_id!r}')


def check_video_entry(entry, video: str, path: str,
                      allow_past_end: Optional[Mapping[str, float]] = None
                      ) -> List[Tuple[float, float, str]]:
    """Check one video's entry of ``gt_full.json`` (the rules of the module
    docstring); returns its ``(start_s, end_s, label)`` in file order.

    ``allow_past_end``: ``{video: duration}`` whose segments may end past
    that duration (default :data:`KNOWN_PAST_END`).
    """
    where = f'{path}: video {video!r}'
    duration, anns = _entry_fields(entry, video, path)
    allowed = KNOWN_PAST_END if allow_past_end is None else allow_past_end
    past_end_ok = (duration is not None and video in allowed
                   and abs(float(allowed[video]) - duration) < 1e-3)
    out = []
    for i, ann in enumerate(anns):
        label = _label(ann, i, where)
        here = f'{where}: annotation {i} ({label})'
        start, end = _segment(ann, here, duration, past_end_ok)
        _optional_fields(ann, here)
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
