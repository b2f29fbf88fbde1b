"""Inputs as NumPy arrays: tensors, lists and ``None`` alike."""
import numpy as np


def to_numpy(x):
    """A tensor (any device) as a NumPy array; anything else unchanged."""
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return x


def as_array(x, shape_tail=(), dtype=np.float64) -> np.ndarray:
    """``x`` as a ``[-1, *shape_tail]`` array of ``dtype``; ``None`` gives
    an empty one (``[0, *shape_tail]``)."""
    if x is None:
        return np.zeros((0, ) + tuple(shape_tail), dtype=dtype)
    return np.asarray(to_numpy(x), dtype=dtype).reshape((-1, ) +
                                                        tuple(shape_tail))
