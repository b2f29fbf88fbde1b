"""Device-equality tests (marker ``cuda``): the same computation on the CPU
and on the test device must agree within the tolerances of ``_devices.py``.

The device is ``HRPRO_TEST_DEVICE`` (e.g. ``cuda``, ``cuda:1``, ``cpu``),
by default ``cuda`` when torch sees a GPU and ``cpu`` otherwise. Every test
taking ``device`` runs on ``cpu`` (the CPU compared with itself, which still
runs every code path, and the bf16 comparison under CPU autocast) and, when
the test device is not the CPU, on it too: no test vanishes on a GPU
machine."""
import os.path as osp
import sys

import pytest
import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from _devices import resolve_device  # noqa: E402


try:
    _TARGET, _ERROR = resolve_device(), None
except RuntimeError as err:
    _TARGET, _ERROR = None, str(err)


def _device_names():
    """``cpu`` always, then the test device when it is not the CPU: on a GPU
    machine every test runs twice (``[cpu]`` and ``[cuda]``), so the CPU
    paths (CPU bf16 autocast, CPU checkpoint tags, CPU-vs-CPU equality) do
    not vanish where CUDA is available; on a CPU-only machine once
    (``[cpu]``)."""
    if _TARGET is None:
        return ['unusable']          # the fixture fails with the reason
    names = ['cpu']
    if _TARGET.type != 'cpu':
        names.append(str(_TARGET))
    return names


@pytest.fixture(scope='session', params=_device_names())
def device(request):
    if _ERROR is not None:
        pytest.fail(_ERROR, pytrace=False)
    return torch.device(request.param)


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
