"""Pads a list of per-video snippet features into one batch tensor."""
from typing import Optional

import torch
from mmengine.model import BaseDataPreprocessor

from mmaction.registry import MODELS


@MODELS.register_module()
class PointTALDataPreprocessor(BaseDataPreprocessor):
    """Moves a batch to the model's device and zero-pads its features.

    Input (``pseudo_collate`` output): ``dict(inputs=[Tensor[T_i, D]],
    data_samples=[ActionDataSample])``. Output: ``inputs`` as
    ``Tensor[B, T_max, D]`` (zero beyond each video's length). The padding
    mask is derived by the model from ``num_snippets`` in each sample's
    metainfo, so the samples stay the one source of truth for lengths.

    mmengine's ``BaseDataPreprocessor`` only stacks equal shapes and
    mmaction's ``ActionDataPreprocessor`` normalises images; neither pads
    1-D sequences, hence this small class.

    Args:
        pad_to_multiple (int): round ``T_max`` up to a multiple of this
            (helps kernels pick fast paths on GPU). Defaults to 1.
        non_blocking (bool): passed to ``Tensor.to``.
    """

    def __init__(self, pad_to_multiple: int = 1,
                 non_blocking: Optional[bool] = False):
        super().__init__(non_blocking=non_blocking)
        if pad_to_multiple < 1:
            raise ValueError(f'pad_to_multiple must be >= 1, got {pad_to_multiple}')
        self.pad_to_multiple = pad_to_multiple

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs = data['inputs']
        data_samples = data.get('data_samples')
        if isinstance(inputs, torch.Tensor) and inputs.dim() == 3:
            batch = inputs
        else:
            if len(inputs) == 0:
                raise ValueError('empty batch: no video in data["inputs"]')
            lengths = [x.shape[0] for x in inputs]
            dims = {x.shape[1] for x in inputs}
            if len(dims) != 1:
                names = [ds.metainfo.get('video_name') for ds in data_samples] \
                    if data_samples is not None else []
                raise ValueError(
                    f'videos of one batch have different feature widths {sorted(dims)}'
                    f' (videos: {names})')
            inputs = self.cast_data(list(inputs))  # pad on the target device
            max_len = max(lengths)
            m = self.pad_to_multiple
            max_len = (max_len + m - 1) // m * m
            batch = inputs[0].new_zeros(len(inputs), max_len, dims.pop())
            for i, x in enumerate(inputs):  # one copy per video, not per snippet
                batch[i, :x.shape[0]] = x
        batch = batch.float()
        return dict(inputs=self.cast_data(batch),
                    data_samples=self.cast_data(data_samples))
