"""``benchmarks/speed.py --bench-checkpoint``: clear errors for a missing or
mismatched checkpoint (the success path needs a full benchmark run)."""
import pytest
import torch
from torch import nn

from _helpers import load_script


def test_missing_checkpoint_is_named(tmp_path):
    speed = load_script('benchmarks/speed.py', 'speed_bench_ckpt')
    path = str(tmp_path / 'nope.pth')
    with pytest.raises(SystemExit, match='no file .*nope.pth'):
        speed.bench_checkpoint_outputs(None, nn.Linear(2, 2), path)


def test_checkpoint_of_another_model_is_rejected(tmp_path):
    speed = load_script('benchmarks/speed.py', 'speed_bench_ckpt')
    path = str(tmp_path / 'other.pth')
    torch.save({'state_dict': nn.Linear(3, 2).state_dict()}, path)
    with pytest.raises(SystemExit, match='does not fit the benchmark model'):
        speed.bench_checkpoint_outputs(None, nn.Linear(2, 2), path)
