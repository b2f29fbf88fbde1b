"""Two gloo processes on CPU (torch.distributed.run + --launcher pytorch):
stage-1 training runs and both processes end with the same prototype memory
(the initialisation and every momentum update are all-reduced)."""
import os.path as osp
import socket
import sys

import pytest
import torch

from _helpers import REPO_ROOT
from reliability._runs import tool_env, write_config


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_end_with_the_same_memory(tiny_dataset, tmp_path):
    # the CPU (gloo) path, on every machine: the processes see no GPU
    import subprocess
    work_dir = str(tmp_path / 'work')
    config = write_config(tmp_path / 'dist.py',
                          base='configs/hrpro_stage1_synthetic.py',
                          hooks=[dict(type='DumpMemoryHook')])
    cmd = [sys.executable, '-m', 'torch.distributed.run',
           '--nnodes', '1', '--nproc_per_node', '2',
           '--master_addr', '127.0.0.1', '--master_port', str(_free_port()),
           'tools/train.py', config, '--launcher', 'pytorch',
           '--data-root', tiny_dataset, '--work-dir', work_dir,
           '--seed', '0', '--cfg-options', 'train_cfg.stage1_iters=4',
           'train_dataloader.batch_size=2', 'default_hooks.logger.interval=2',
           'default_hooks.checkpoint.interval=4']
    env = dict(tool_env(), CUDA_VISIBLE_DEVICES='')
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    mem = [torch.load(osp.join(work_dir, f'memory_rank{r}.pt'))
           for r in range(2)]
    assert torch.isfinite(mem[0]).all() and mem[0].abs().sum() > 0
    assert torch.equal(mem[0], mem[1])
    ckpt = torch.load(osp.join(work_dir, 'stage1.pth'), weights_only=False)
    assert torch.equal(ckpt['state_dict']['memory.prototypes'], mem[0])
    assert ckpt['meta']['iter'] == 4
    # the RNG states of both ranks went into the checkpoint
    assert len(ckpt['rng_state']['per_rank']) == 2
