"""Load a video's snippet features (``.npy``) into ``results['features']``."""
from typing import Dict, List, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmaction.registry import TRANSFORMS

from ..annotations import DataError, MissingFileError

__all__ = ['LoadSnippetFeatures']


def _read_npy(path: str) -> np.ndarray:
    """Read one feature file fully (tests count calls to this function)."""
    return np.load(path, allow_pickle=False)


def _load_checked(path: str) -> np.ndarray:
    try:
        arr = _read_npy(path)
    except FileNotFoundError:
        raise MissingFileError(f'{path}: feature file not found') from None
    except Exception as e:
        raise DataError(f'{path}: unreadable or truncated .npy feature file: '
                        f'{e}') from None
    if arr.ndim != 2:
        raise DataError(f'{path}: feature array must be 2-D [T, D], got '
                        f'shape {tuple(arr.shape)}')
    if not np.issubdtype(arr.dtype, np.floating):
        raise DataError(f'{path}: feature array must have a float dtype, got '
                        f'{arr.dtype}')
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    finite = np.isfinite(arr)
    if not finite.all():
        bad_rows = np.flatnonzero(~finite.all(axis=1))
        first = int(bad_rows[0])
        raise DataError(
            f'{path}: features contain NaN or inf; first bad snippet '
            f'{first} ({len(bad_rows)} bad snippet(s) of {arr.shape[0]})')
    return arr


@TRANSFORMS.register_module()
class LoadSnippetFeatures(BaseTransform):
    """Load ``results['feature_paths']`` (one file, or rgb then flow,
    concatenated along D) into ``results['features']`` (float32 ``[T, D]``).

    Checks: readable, 2-D float, finite, rgb/flow of equal T, T equal to
    ``results['num_snippets']`` and D to ``results['feat_dim']`` where given.

    Args:
        cache (bool): Keep the loaded arrays in a per-process dict (paths ->
            array), so each file is read and checked once. The cached arrays
            are read-only; :class:`PackPointTALInputs` copies them.
    """

    def __init__(self, cache: bool = True) -> None:
        self.cache = cache
        self._cache: Dict[Tuple[str, ...], np.ndarray] = {}

    def _load(self, paths: Sequence[str]) -> np.ndarray:
        parts: List[np.ndarray] = [_load_checked(p) for p in paths]
        lengths = [p.shape[0] for p in parts]
        if len(set(lengths)) > 1:
            raise DataError(
                f'{paths[0]}: rgb and flow features have different lengths: '
                + ', '.join(f'{p} has T={t}' for p, t in zip(paths, lengths)))
        feats = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
        return np.ascontiguousarray(feats, dtype=np.float32)

    def transform(self, results: Dict) -> Dict:
        if 'feature_paths' not in results:
            raise KeyError('LoadSnippetFeatures needs results["feature_paths"]'
                           ' (set by PointTALDataset)')
        paths = results['feature_paths']
        if isinstance(paths, str):
            paths = [paths]
        key = tuple(paths)
        feats = self._cache.get(key) if self.cache else None
        if feats is None:
            feats = self._load(key)
            if self.cache:
                feats.setflags(write=False)
                self._cache[key] = feats
        where = ' + '.join(key)
        video = results.get('video_name', '?')
        t_expected = results.get('num_snippets')
        if t_expected is not None and feats.shape[0] != int(t_expected):
            raise DataError(
                f'{where}: video {video}: features have T={feats.shape[0]} '
                f'snippets, the dataset recorded {t_expected}')
        d_expected = results.get('feat_dim')
        if d_expected is not None and feats.shape[1] != int(d_expected):
            raise DataError(
                f'{where}: video {video}: wrong feature dimension: got '
                f'{feats.shape[1]}, expected {d_expected}')
        results['features'] = feats
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(cache={self.cache})'
