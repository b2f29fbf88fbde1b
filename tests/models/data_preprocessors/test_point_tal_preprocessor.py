"""``PointTALDataPreprocessor``: zero-padding of per-video features into one
batch, ``pad_to_multiple``, and its errors."""
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

import hrpro_plugin  # noqa: F401  (registers the preprocessor)


def _samples(*names):
    out = []
    for n in names:
        ds = ActionDataSample()
        ds.set_metainfo(dict(video_name=n))
        out.append(ds)
    return out


def _feats(*lengths, D=3):
    # video i, snippet t, channel d holds 100 i + 10 t + d + 1 (never 0)
    return [torch.tensor([[100.0 * i + 10 * t + d + 1 for d in range(D)]
                          for t in range(T)]) for i, T in enumerate(lengths)]


def test_pad_to_multiple_of_4():
    """Lengths 5 and 7, pad_to_multiple 4: T_max 7 rounds up to 8; video 0
    holds its 5 snippets then 3 zero rows, video 1 its 7 then 1 zero row,
    in the batch's order."""
    pre = MODELS.build(dict(type='PointTALDataPreprocessor',
                            pad_to_multiple=4))
    feats = _feats(5, 7)
    samples = _samples('a', 'b')
    out = pre(dict(inputs=feats, data_samples=samples), False)
    x = out['inputs']
    assert x.shape == (2, 8, 3) and x.dtype == torch.float32
    assert torch.equal(x[0, :5], feats[0]) and torch.equal(x[1, :7], feats[1])
    assert x[0, :, 0].tolist() == [1.0, 11.0, 21.0, 31.0, 41.0, 0.0, 0.0, 0.0]
    assert x[1, :, 2].tolist() == [103.0, 113.0, 123.0, 133.0, 143.0, 153.0,
                                   163.0, 0.0]
    assert [ds.metainfo['video_name'] for ds in out['data_samples']] == \
        ['a', 'b']
    # the inputs are not written into
    assert feats[0].shape == (5, 3)


@pytest.mark.parametrize('multiple, lengths, padded', [
    (1, (5, 7), 7),      # no rounding: the longest video
    (4, (4, 8), 8),      # already a multiple: unchanged
    (4, (1, ), 4),       # one video of 1 -> 4
    (8, (9, 2, 3), 16),  # 9 -> 16
])
def test_padded_length(multiple, lengths, padded):
    pre = MODELS.build(dict(type='PointTALDataPreprocessor',
                            pad_to_multiple=multiple))
    feats = _feats(*lengths)
    x = pre(dict(inputs=feats, data_samples=None), False)['inputs']
    assert x.shape == (len(lengths), padded, 3)
    for i, T in enumerate(lengths):
        assert torch.equal(x[i, :T], feats[i])
        assert bool((x[i, T:] == 0).all())


def test_a_padded_batch_passes_through_as_float32():
    pre = MODELS.build(dict(type='PointTALDataPreprocessor',
                            pad_to_multiple=4))
    batch = torch.arange(2 * 5 * 3, dtype=torch.float64).reshape(2, 5, 3)
    x = pre(dict(inputs=batch, data_samples=None), False)['inputs']
    # a [B, T, D] tensor is taken as already padded (no rounding to 8)
    assert x.shape == (2, 5, 3) and x.dtype == torch.float32
    assert torch.equal(x, batch.float())


def test_errors():
    with pytest.raises(ValueError, match='pad_to_multiple must be >= 1'):
        MODELS.build(dict(type='PointTALDataPreprocessor', pad_to_multiple=0))
    pre = MODELS.build(dict(type='PointTALDataPreprocessor'))
    with pytest.raises(ValueError, match='empty batch'):
        pre(dict(inputs=[], data_samples=[]), False)
    with pytest.raises(ValueError, match=r"different feature widths \[2, 3\]"
                       r".*'a', 'b'"):
        pre(dict(inputs=[torch.zeros(4, 3), torch.zeros(4, 2)],
                 data_samples=_samples('a', 'b')), False)
