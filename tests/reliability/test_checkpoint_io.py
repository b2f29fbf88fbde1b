"""A save that fails or is killed midway never leaves a checkpoint that loads
wrongly (hrpro_plugin.compat.patch_atomic_checkpoint_write), and
``--resume`` then picks a checkpoint that loads. A checkpoint written from
CUDA tensors loads and tests on a CPU-only machine."""
import builtins
import os
import os.path as osp

import pytest
import torch
from mmengine.fileio.backends import LocalBackend
from mmengine.runner.checkpoint import save_checkpoint

import hrpro_plugin  # noqa: F401  (applies the workarounds)
from hrpro_plugin.apis import load_checkpoint_meta
from reliability._kill_hook import failing_open
from reliability._runs import run_test_py_in_process, train, write_config


def _ckpt(value):
    return dict(meta=dict(iter=int(value)),
                state_dict={'w': torch.full((64, 64), float(value))})


def _load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


def test_stock_writer_leaves_a_truncated_checkpoint(tmp_path, monkeypatch):
    """The defect: mmengine 0.10.7's LocalBackend.put truncates the final
    path and writes in place."""
    path = str(tmp_path / 'stage1.pth')
    save_checkpoint(_ckpt(1), path)
    stock_put = LocalBackend.put._hrpro_stock
    monkeypatch.setattr(LocalBackend, 'put', stock_put)
    monkeypatch.setattr(builtins, 'open', failing_open('stage1.pth'))
    with pytest.raises(OSError, match='simulated'):
        save_checkpoint(_ckpt(2), path)
    monkeypatch.undo()
    with pytest.raises(Exception):
        _load(path)  # the good checkpoint 1 is gone, the file is half of 2


def test_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = str(tmp_path / 'stage1.pth')
    save_checkpoint(_ckpt(1), path)
    os.chmod(path, 0o640)
    monkeypatch.setattr(builtins, 'open', failing_open('stage1.pth'))
    with pytest.raises(OSError, match='simulated'):
        save_checkpoint(_ckpt(2), path)
    monkeypatch.undo()
    assert _load(path)['meta']['iter'] == 1
    assert torch.equal(_load(path)['state_dict']['w'],
                       _ckpt(1)['state_dict']['w'])
    assert sorted(os.listdir(tmp_path)) == ['stage1.pth']  # no partial file
    save_checkpoint(_ckpt(3), path)  # the next save works, mode kept
    assert _load(path)['meta']['iter'] == 3
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o640)
    assert sorted(os.listdir(tmp_path)) == ['stage1.pth']


def test_leftover_of_a_killed_write_is_ignored_then_removed(tmp_path):
    path = str(tmp_path / 'iter_8.pth')
    stale = tmp_path / '.iter_8.pth.12345.tmp'  # a SIGKILLed writer's
    stale.write_bytes(b'PK\x03\x04 half a checkpoint')
    save_checkpoint(_ckpt(8), path)
    assert _load(path)['meta']['iter'] == 8
    assert sorted(os.listdir(tmp_path)) == ['iter_8.pth']


@pytest.mark.slow
def test_killed_while_writing_then_resume_auto(tiny_dataset, tmp_path):
    """Stage 1 only, 8 iterations, a checkpoint every 4: the process is
    SIGKILLed when half of iter_8.pth is written. iter_4.pth and
    last_checkpoint are intact, nothing partial is under a checkpoint name,
    and ``--resume`` continues from iter_4.pth to the end."""
    work_dir = str(tmp_path / 'work')
    options = ['train_cfg.stage1_iters=8', 'train_dataloader.batch_size=4',
               'default_hooks.checkpoint.interval=4',
               'default_hooks.logger.interval=4']
    config = write_config(
        tmp_path / 'kill_write.py', base='configs/hrpro_stage1_synthetic.py',
        hooks=[dict(type='FailingSaveHook', at_iter=8, mode='kill')])
    proc = train(config, tiny_dataset, work_dir, options=options,
                 check=False)
    assert proc.returncode == -9, (proc.stdout + proc.stderr)[-3000:]
    files = set(os.listdir(work_dir))
    assert 'iter_8.pth' not in files and 'stage1.pth' not in files
    partial = [f for f in files if f.startswith('.iter_8.pth.')]
    assert partial, files  # the kill did happen mid-write
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read().strip() == osp.join(work_dir, 'iter_4.pth')
    assert _load(osp.join(work_dir, 'iter_4.pth'))['meta']['iter'] == 4

    config = write_config(tmp_path / 'resume.py',
                          base='configs/hrpro_stage1_synthetic.py')
    proc = train(config, tiny_dataset, work_dir, '--resume',
                 options=options)
    text = proc.stdout + proc.stderr
    assert ('Auto resumed from the latest checkpoint '
            f'{osp.join(work_dir, "iter_4.pth")}') in text
    assert _load(osp.join(work_dir, 'iter_8.pth'))['meta']['iter'] == 8
    assert _load(osp.join(work_dir, 'stage1.pth'))['meta']['iter'] == 8
    assert not [f for f in os.listdir(work_dir) if f.endswith('.tmp')]


# ------------------------------------------------------- CUDA -> CPU loading
@pytest.fixture
def cuda_tagged_checkpoint(tiny_run, tmp_path, monkeypatch):
    """tiny_run's stage2.pth re-saved as if its tensors lived on cuda:0."""
    ckpt = _load(osp.join(tiny_run['work_dir'], 'stage2.pth'))
    path = str(tmp_path / 'stage2_cuda.pth')
    with monkeypatch.context() as m:
        m.setattr(torch.serialization, 'location_tag', lambda obj: 'cuda:0')
        torch.save(ckpt, path)
    return path


@pytest.mark.slow
def test_checkpoint_saved_on_cuda_tests_on_cpu(cuda_tagged_checkpoint,
                                               tiny_run, tmp_path,
                                               monkeypatch):
    # a CPU-only machine on every machine: torch and mmengine (which picks
    # its device once, at import) see no GPU while this test runs
    import mmengine.device.utils as mmengine_device
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(mmengine_device, 'DEVICE', 'cpu')
    path = cuda_tagged_checkpoint
    with pytest.raises(RuntimeError, match='CUDA'):
        torch.load(path, weights_only=False)  # the tag took effect
    meta = load_checkpoint_meta(path)
    assert list(meta['dataset_meta']['classes'])
    metrics = run_test_py_in_process(
        tiny_run['config'], path, '--data-root', tiny_run['data_root'],
        '--work-dir', str(tmp_path / 'work'))
    reference = run_test_py_in_process(
        tiny_run['config'], osp.join(tiny_run['work_dir'], 'stage2.pth'),
        '--data-root', tiny_run['data_root'], '--work-dir',
        str(tmp_path / 'work_ref'))
    assert dict(metrics) == dict(reference)
