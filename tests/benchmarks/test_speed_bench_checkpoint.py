"""``benchmarks/speed.py --bench-checkpoint``: clear errors for a missing or
mismatched checkpoint (the success path needs a full benchmark run)."""
import os.path as osp
import sys

import pytest
import torch
from torch import nn

from _helpers import REPO_ROOT

sys.path.insert(0, osp.join(REPO_ROOT, 'benchmarks'))
from speed_lib import recorder  # noqa: E402  (benchmarks/speed_lib)


def test_missing_checkpoint_is_named(tmp_path):
    path = str(tmp_path / 'nope.pth')
    with pytest.raises(SystemExit, match='no file .*nope.pth'):
        recorder.bench_checkpoint_outputs(None, nn.Linear(2, 2), path)


def test_checkpoint_of_another_model_is_rejected(tmp_path):
    path = str(tmp_path / 'other.pth')
    torch.save({'state_dict': nn.Linear(3, 2).state_dict()}, path)
    with pytest.raises(SystemExit, match='does not fit the benchmark model'):
        recorder.bench_checkpoint_outputs(None, nn.Linear(2, 2), path)
