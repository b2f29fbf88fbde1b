"""Each workaround in hrpro_plugin/compat.py restores a behaviour; these tests
check that behaviour, not the patch itself."""
import os
import socket

import pytest
import torch
import torch.nn as nn

import hrpro_plugin  # noqa: F401  (applies the workarounds)


def test_register_all_modules_works():
    # mmaction2 1.2.0 wheel lacks localizers/drn: without the stub this
    # raises ModuleNotFoundError.
    from mmaction.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    import mmaction.models  # noqa: F401
    from mmaction.registry import MODELS
    assert MODELS.get('BMN') is not None
    assert MODELS.get('HRPro') is not None


def test_drn_stub_explains_itself():
    from mmaction.models.localizers.drn.drn import DRN
    with pytest.raises(ImportError, match='2714'):
        DRN()


class _Toy(nn.Module):
    pass


def _toy_runner(work_dir, max_iters, resume=False, load_from=None,
                launcher='none'):
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class ToyModel(BaseModel):

        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(2, 1)

        def forward(self, inputs, data_samples=None, mode='tensor'):
            x = torch.stack(inputs) if isinstance(inputs, list) else inputs
            out = self.linear(x)
            if mode == 'loss':
                return dict(loss=out.pow(2).mean())
            return out

    data = [dict(inputs=torch.randn(2)) for _ in range(8)]
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=data, batch_size=2,
            sampler=dict(type='InfiniteSampler', shuffle=False),
            collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2,
                                           by_epoch=False)),
        resume=resume, load_from=load_from, launcher=launcher,
        default_scope='mmengine',
        env_cfg=dict(dist_cfg=dict(backend='nccl')),
        experiment_name=f'toy_{os.getpid()}_{max_iters}_{resume}')


def test_runner_checkpoint_resumes(tmp_path):
    # torch >= 2.6 loads with weights_only=True; mmengine checkpoints pickle
    # HistoryBuffer/numpy objects, so resume failed with UnpicklingError.
    runner = _toy_runner(tmp_path, max_iters=2)
    runner.train()
    ckpt = tmp_path / 'iter_2.pth'
    assert ckpt.exists()
    resumed = _toy_runner(tmp_path, max_iters=4, resume=True,
                          load_from=str(ckpt))
    resumed.train()
    assert resumed.iter == 4
    assert (tmp_path / 'iter_4.pth').exists()


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _dist_worker(rank, world, port, work_dir, queue):
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE=str(world), MASTER_ADDR='127.0.0.1',
                      MASTER_PORT=str(port))
    import hrpro_plugin  # noqa: F401
    runner = _toy_runner(work_dir, max_iters=2, launcher='pytorch')
    runner.train()
    import torch.distributed as dist
    queue.put((rank, dist.get_backend(), type(runner.model).__name__,
               runner.iter))
    dist.destroy_process_group()


@pytest.mark.slow
def test_two_process_cpu_run_starts(tmp_path, monkeypatch):
    # Stock mmengine calls torch.cuda.set_device and DDP(device_ids=[rank])
    # under --launcher pytorch, both of which fail without CUDA. The
    # workers (spawned with this environment) see no GPU on any machine.
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '')
    import torch.multiprocessing as mp
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    port = _free_port()
    procs = [ctx.Process(target=_dist_worker,
                         args=(r, 2, port, str(tmp_path), queue))
             for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    results = sorted(queue.get(timeout=5) for _ in range(2))
    assert results == [(0, 'gloo', 'MMDistributedDataParallel', 2),
                       (1, 'gloo', 'MMDistributedDataParallel', 2)]


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    # mmengine 0.10.7's LocalBackend.put opened the final path with 'wb':
    # an error midway left half a file there, the old checkpoint gone.
    import builtins
    from mmengine.runner.checkpoint import save_checkpoint
    path = tmp_path / 'stage2.pth'
    save_checkpoint({'state_dict': {'w': torch.ones(3)}}, str(path))
    real_open = builtins.open

    class HalfFile:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            self.f.write(data[:len(data) // 2])
            raise OSError(28, 'No space left on device')

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    def fake_open(file, mode='r', *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        return HalfFile(f) if 'stage2.pth' in str(file) and 'b' in mode \
            and ('w' in mode or 'x' in mode) else f

    monkeypatch.setattr(builtins, 'open', fake_open)
    with pytest.raises(OSError, match='No space'):
        save_checkpoint({'state_dict': {'w': torch.zeros(3)}}, str(path))
    monkeypatch.undo()
    loaded = torch.load(path, weights_only=False)
    assert torch.equal(loaded['state_dict']['w'], torch.ones(3))
    assert os.listdir(tmp_path) == ['stage2.pth']


def test_find_latest_checkpoint_survives_a_bad_pointer(tmp_path):
    # mmengine 0.10.7 trusted last_checkpoint blindly: empty (killed while
    # CheckpointHook rewrote it) or naming a deleted file, --resume failed;
    # missing, --resume silently restarted although iter_*.pth existed.
    from mmengine.runner import runner as runner_mod
    # the name Runner.load_or_resume calls
    find = runner_mod.find_latest_checkpoint
    assert find(str(tmp_path)) is None
    for step in (4, 8, 12):
        (tmp_path / f'iter_{step}.pth').write_bytes(b'x')
    (tmp_path / 'epoch_20.pth').write_bytes(b'x')
    (tmp_path / 'stage1.pth').write_bytes(b'x')
    newest = str(tmp_path / 'iter_12.pth')
    assert find(str(tmp_path)) == newest  # no pointer
    pointer = tmp_path / 'last_checkpoint'
    pointer.write_text('')
    assert find(str(tmp_path)) == newest  # empty pointer
    pointer.write_text(str(tmp_path / 'iter_16.pth'))
    assert find(str(tmp_path)) == newest  # pointer to a missing file
    pointer.write_text(str(tmp_path / 'iter_8.pth') + '\n')
    assert find(str(tmp_path)) == str(tmp_path / 'iter_8.pth')  # trusted
    pointer.write_text('s3://bucket/run/iter_8.pth')
    assert find(str(tmp_path)) == 's3://bucket/run/iter_8.pth'  # remote
