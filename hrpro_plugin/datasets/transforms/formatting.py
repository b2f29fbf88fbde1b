"""Pack one video into ``dict(inputs=FloatTensor[T, D],
data_samples=ActionDataSample)`` (see ``docs/design.md``)."""
from typing import Dict, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import InstanceData
from mmaction.registry import TRANSFORMS
from mmaction.structures import ActionDataSample

__all__ = ['PackPointTALInputs']


def _tensor(value, dtype: torch.dtype, shape_tail=()) -> torch.Tensor:
    if value is None:
        return torch.zeros((0, ) + tuple(shape_tail), dtype=dtype)
    # torch.tensor copies (cached feature arrays are read-only)
    return torch.tensor(np.asarray(value), dtype=dtype)


def _positions(results: Dict) -> Dict:
    pos = results.get('point_positions')
    if pos is None:
        return {}
    return dict(positions=_tensor(pos, torch.float64).reshape(-1))


@TRANSFORMS.register_module()
class PackPointTALInputs(BaseTransform):
    """Pack features and labels.

    Output data sample:

    - metainfo: ``meta_keys`` (default ``video_name, duration, fps,
      num_snippets, snippet_seconds``)
    - ``gt_instances``: ``segments`` FloatTensor[N, 2] (s), ``labels``
      LongTensor[N]
    - ``gt_points``: ``snippets`` LongTensor[P], ``labels`` LongTensor[P],
      and, where the dataset gives them, ``positions`` DoubleTensor[P]
      (exact point times in snippet units)
    - ``gt_video_label``: FloatTensor[C] multi-hot

    Args:
        meta_keys (Sequence[str]): Keys of ``results`` copied to metainfo.
    """

    def __init__(self,
                 meta_keys: Sequence[str] = ('video_name', 'duration', 'fps',
                                             'num_snippets',
                                             'snippet_seconds')) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: Dict) -> Dict:
        if 'features' not in results:
            raise KeyError('PackPointTALInputs needs results["features"]; put '
                           'LoadSnippetFeatures before it in the pipeline')
        inputs = _tensor(results['features'], torch.float32)
        if inputs.ndim != 2:
            raise ValueError('features must be [T, D], got shape '
                             f'{tuple(inputs.shape)}')

        sample = ActionDataSample()
        meta = {}
        for key in self.meta_keys:
            if key not in results:
                raise KeyError(f'PackPointTALInputs: results lacks meta key '
                               f'{key!r}')
            meta[key] = results[key]
        sample.set_metainfo(meta)

        sample.gt_instances = InstanceData(
            segments=_tensor(results.get('gt_segments'), torch.float32,
                             (2, )).reshape(-1, 2),
            labels=_tensor(results.get('gt_labels'), torch.long).reshape(-1))
        sample.set_field(
            InstanceData(
                snippets=_tensor(results.get('point_snippets'),
                                 torch.long).reshape(-1),
                labels=_tensor(results.get('point_labels'),
                               torch.long).reshape(-1),
                **_positions(results)),
            'gt_points',
            dtype=InstanceData)
        if results.get('video_label') is not None:
            sample.set_field(
                _tensor(results['video_label'], torch.float32).reshape(-1),
                'gt_video_label',
                dtype=torch.Tensor)
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
