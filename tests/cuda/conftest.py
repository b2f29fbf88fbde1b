"""Device-equality tests (marker ``cuda``): the same computation on the CPU
and on the test device must agree within the tolerances of ``_devices.py``.

The device is ``HRPRO_TEST_DEVICE`` (e.g. ``cuda``, ``cuda:1``, ``cpu``),
by default ``cuda`` when torch sees a GPU and ``cpu`` otherwise; on a
CPU-only machine these tests compare the CPU with itself, so they still run
every code path (and the bf16 comparison, under CPU autocast)."""
import os.path as osp
import sys

import pytest
import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from _devices import resolve_device  # noqa: E402


@pytest.fixture(scope='session')
def device():
    try:
        return resolve_device()
    except RuntimeError as err:
        message = str(err)
    pytest.fail(message, pytrace=False)


@pytest.fixture(autouse=True)
def _exact_float32():
    """TF32 off while a test runs (cuDNN enables it for convolutions by
    default, which would turn a float32 comparison into a 1e-3 one)."""
    saved = (torch.backends.cuda.matmul.allow_tf32,
             torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    yield
    (torch.backends.cuda.matmul.allow_tf32,
     torch.backends.cudnn.allow_tf32) = saved
