"""Test-only hooks for the reliability tests (imported by tools/train.py via
``custom_imports``; tests/reliability must be on PYTHONPATH).

- ``SelfKillHook(at_iter=None, at_event=None)``: SIGKILL this process after
  training iteration ``at_iter`` (after the checkpoint of that iteration, if
  any, was written) or at ``'before_stage2'`` (after the proposal mining).
- ``FailingSaveHook(at_iter, mode)``: the next write of ``iter_<at_iter>.pth``
  writes half of its bytes, then raises ``OSError`` (``mode='raise'``, e.g. a
  full disk) or SIGKILLs the process (``mode='kill'``).
- ``DumpMemoryHook``: ``after_train``, save the prototype memory of this rank
  to ``<work_dir>/memory_rank<r>.pt``.
"""
import builtins
import errno
import os
import os.path as osp
import signal

import torch
from mmengine.dist import get_dist_info
from mmengine.hooks import Hook

from mmaction.registry import HOOKS


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


class _HalfWriter:
    """A binary file whose first ``write`` stores half of the bytes, then
    fails (``action()`` raises or kills)."""

    def __init__(self, f, action):
        self._f = f
        self._action = action

    def write(self, data):
        view = memoryview(data)
        self._f.write(view[:len(view) // 2])
        self._f.flush()
        os.fsync(self._f.fileno())
        self._action()

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()
        return False


def raise_disk_full():
    raise OSError(errno.ENOSPC, 'No space left on device (simulated)')


def failing_open(match: str, action=raise_disk_full, once: bool = True):
    """An ``open`` that returns a :class:`_HalfWriter` for binary writes to a
    path whose basename contains ``match``; every other call is the real
    ``open``."""
    real_open = builtins.open
    state = dict(armed=True)

    def fake_open(file, mode='r', *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        if state['armed'] and isinstance(file, (str, os.PathLike)) and \
                match in osp.basename(os.fspath(file)) and \
                'b' in mode and ('w' in mode or 'x' in mode):
            if once:
                state['armed'] = False
            return _HalfWriter(f, action)
        return f

    fake_open.real_open = real_open
    return fake_open


@HOOKS.register_module(force=True)
class SelfKillHook(Hook):
    priority = 'LOWEST'  # after CheckpointHook / ProposalMiningHook

    def __init__(self, at_iter=None, at_event=None):
        self.at_iter = at_iter
        self.at_event = at_event

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if self.at_iter is not None and runner.iter + 1 == self.at_iter:
            _die()

    def before_stage2(self, runner, proposal_file=None):
        if self.at_event == 'before_stage2':
            _die()


@HOOKS.register_module(force=True)
class FailingSaveHook(Hook):

    def __init__(self, at_iter, mode='raise'):
        self.at_iter = at_iter
        self.mode = mode

    def before_save_checkpoint(self, runner, checkpoint):
        if checkpoint['meta'].get('iter') == self.at_iter and \
                not getattr(builtins.open, 'real_open', None):
            action = _die if self.mode == 'kill' else raise_disk_full
            builtins.open = failing_open(f'iter_{self.at_iter}.pth', action)


@HOOKS.register_module(force=True)
class DumpMemoryHook(Hook):

    def after_train(self, runner):
        model = runner.model
        model = getattr(model, 'module', model)
        rank, _ = get_dist_info()
        torch.save(model.memory.prototypes.detach().cpu().clone(),
                   osp.join(runner.work_dir, f'memory_rank{rank}.pt'))
