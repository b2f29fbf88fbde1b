"""The point label CSV (``point_labels/point_gaussian.csv``): columns
``class, video_id, point`` (required), ``class_index``, ``start_frame``,
``stop_frame`` (optional); a point's video must be in the annotations."""
import csv
import io
import math
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from .errors import DataError
from .text_files import read_text

__all__ = [
    'PointRow', 'load_point_csv', 'check_point_videos',
    'classes_from_class_index', 'frame_to_snippet', 'REQUIRED_CSV_COLUMNS'
]

REQUIRED_CSV_COLUMNS = ('class', 'video_id', 'point')


class PointRow(NamedTuple):
    """One data row of the point CSV."""
    row: int  # 1-based data row (the header is not counted)
    video: str
    label: str
    class_index: Optional[int]
    frame: float


def _header(reader, path: str) -> List[str]:
    """The first non-blank row, checked: the required columns, each once."""
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
    return header


def _row(cells: List[str], data_row: int, col: Dict[str, int],
         path: str) -> PointRow:
    """One data row (its field count already checked)."""
    video = cells[col['video_id']].strip()
    label = cells[col['class']].strip()
    if not video or not label:
        raise DataError(f'{path}: row {data_row}: empty video_id or class')
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
    if 'class_index' in col:
        raw_idx = cells[col['class_index']].strip()
        try:
            index = int(raw_idx)
        except ValueError:
            raise DataError(
                f'{path}: row {data_row} (video {video}): '
                f'class_index {raw_idx!r} is not an integer') from None
    return PointRow(data_row, video, label, index, frame)


def load_point_csv(path: str, database: Optional[Dict[str, dict]] = None,
                   ann_path: Optional[str] = None
                   ) -> Tuple[List[PointRow], bool]:
    """Rows of the point CSV and whether it has a ``class_index`` column.

    With ``database`` (from
    :func:`~.gt_database.load_gt_database` of ``ann_path``), a point whose
    video is not in it is an error (:func:`check_point_videos`).
    """
    text = read_text(path, 'point label CSV')
    reader = csv.reader(io.StringIO(text, newline=''))
    header = _header(reader, path)
    col = {name: header.index(name) for name in header}
    rows: List[PointRow] = []
    data_row = 0
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        data_row += 1
        if len(cells) != len(header):
            raise DataError(f'{path}: row {data_row}: expected '
                            f'{len(header)} fields, got {len(cells)}')
        rows.append(_row(cells, data_row, col, path))
    if not rows:
        raise DataError(f'{path}: point label CSV has a header but no data '
                        'rows')
    if database is not None:
        check_point_videos(rows, database, path, ann_path)
    return rows, 'class_index' in col


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
