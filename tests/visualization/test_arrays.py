"""hrpro_plugin.visualization.arrays: inputs as NumPy."""
import numpy as np
import torch

from hrpro_plugin.visualization.arrays import as_array, to_numpy


def test_as_array():
    assert as_array(None, (2, )).shape == (0, 2)
    assert as_array(None, dtype=np.int64).dtype == np.int64
    out = as_array([[0, 1], [2, 3]], (2, ))
    assert out.dtype == np.float64 and out.tolist() == [[0, 1], [2, 3]]
    assert as_array([0, 1, 2, 3], (2, )).shape == (2, 2)
    assert as_array(3.0).tolist() == [3.0]
    t = torch.tensor([[1.5, 2.0]], requires_grad=True)
    assert as_array(t, (2, )).tolist() == [[1.5, 2.0]]
    assert isinstance(to_numpy(t), np.ndarray)
    assert to_numpy([1]) == [1]
