"""Snippet feature files: ``<dir>/<video>.npy`` ``[T, D]``, or
``<dir>/rgb/<video>.npy`` and ``<dir>/flow/<video>.npy`` (concatenated rgb
first). The structural checks of one array or file (2-D, float, not empty,
finite), and the feature width a set of videos agrees on, naming the file
that disagrees.
"""
import glob
import os.path as osp
from collections import Counter
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from .errors import DataError, MissingFileError, one_line

__all__ = [
    'EXPECTED_LAYOUT', 'feature_layout', 'feature_paths_for',
    'transposed_hint', 'check_feature_array', 'check_features_finite',
    'check_feature_file', 'load_feature_file', 'common_feature_width',
    'infer_feat_dim'
]

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
                        f'file{who}: {one_line(e)}') from None
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
                        f'file{who}: {one_line(e)}') from None
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
