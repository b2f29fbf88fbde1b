"""Load a video's snippet features (``.npy``) into ``results['features']``."""
from typing import Dict, List, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmaction.registry import TRANSFORMS

from ..parsers.errors import DataError
from ..parsers.features import load_feature_file, transposed_hint

__all__ = ['LoadSnippetFeatures']


def _read_npy(path: str) -> np.ndarray:
    """Read one feature file fully (tests count calls to this function)."""
    return np.load(path, allow_pickle=False)


def _load_checked(path: str) -> np.ndarray:
    """One file read and checked by the shared feature checks of
    :mod:`hrpro_plugin.datasets.parsers.features` (the dataset's header check and
    inference use the same ones)."""
    return load_feature_file(path, read=_read_npy)


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
                f'{feats.shape[1]}, expected {d_expected}' +
                (transposed_hint(feats.shape, int(d_expected))
                 if len(key) == 1 else ''))
        results['features'] = feats
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(cache={self.cache})'
