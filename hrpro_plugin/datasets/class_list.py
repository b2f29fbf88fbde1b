"""The class list of a :class:`~.point_tal_dataset.PointTALDataset`: from
the metainfo (e.g. a checkpoint's ``dataset_meta``), else the point CSV's
``class_index`` column, else the sorted classes of the annotations and
points; every annotated and pointed class must be in it."""
from typing import Dict, List, Optional, Sequence, Tuple

from .parsers.errors import DataError
from .parsers.gt_database import annotation_classes
from .parsers.point_csv import PointRow, classes_from_class_index

__all__ = ['dataset_classes']


def _classes_and_origin(given: Optional[Sequence[str]],
                        ann_first: Dict[str, str],
                        csv_first: Dict[str, PointRow],
                        rows: List[PointRow], has_index: bool,
                        csv_path: Optional[str]) -> Tuple[List[str], str]:
    """The class list and the words naming where it comes from."""
    if given is not None:
        if isinstance(given, str) or not all(
                isinstance(c, str) for c in given):
            raise DataError('metainfo classes must be a list of class '
                            f'names, got {given!r}')
        classes = list(given)
        dup = sorted({c for c in classes if classes.count(c) > 1})
        if dup:
            raise DataError(f'metainfo classes list {dup} more than once')
        return classes, 'the metainfo classes'
    if has_index:
        return (classes_from_class_index(rows, csv_path),
                f'the class_index column of {csv_path}')
    return (sorted(set(ann_first) | set(csv_first)),
            'the classes of the annotations and points')


def dataset_classes(given: Optional[Sequence[str]],
                    database: Dict[str, dict], rows: List[PointRow],
                    has_index: bool, ann_path: str,
                    csv_path: Optional[str]) -> List[str]:
    """The class list (``given``: the metainfo's, or None), checked against
    the annotations of every subset and the points: a class outside the
    list, a pointed class without annotation, or a ``class_index`` other
    than the metainfo's index is a :class:`DataError`."""
    ann_first = annotation_classes(database)
    csv_first: Dict[str, PointRow] = {}
    for r in rows:
        csv_first.setdefault(r.label, r)
    classes, origin = _classes_and_origin(given, ann_first, csv_first, rows,
                                          has_index, csv_path)
    if not classes:
        raise DataError(f'{ann_path}: no class found (no annotation and '
                        'no point)')
    index = {c: i for i, c in enumerate(classes)}
    # annotations of any subset must use classes of the list
    for c, video in ann_first.items():
        if c not in index:
            raise DataError(
                f'{ann_path}: class {c!r} (video {video}) is not in the '
                f'class list from {origin} ({len(classes)} classes)')
    for c, r in csv_first.items():
        if c not in index:
            raise DataError(
                f'{csv_path}: row {r.row} (video {r.video}): point of '
                f'unknown class {c!r} (not in the class list from '
                f'{origin})')
        if c not in ann_first:
            raise DataError(
                f'{csv_path}: row {r.row} (video {r.video}): class {c!r} '
                f'has points but no annotation in {ann_path}')
    if has_index and given is not None:
        for c, r in csv_first.items():
            if r.class_index != index[c]:
                raise DataError(
                    f'{csv_path}: row {r.row}: class {c!r} has '
                    f'class_index {r.class_index} but index {index[c]} '
                    'in the metainfo classes')
    return classes
