"""Test-only hook (imported through ``custom_imports``; tests/engine on
PYTHONPATH): records every training-hook call with the runner's epoch and
iteration and the batch index, and writes them to
``<work_dir>/hook_calls.json`` after training."""
import json
import os.path as osp

from mmengine.hooks import Hook

from mmaction.registry import HOOKS


@HOOKS.register_module()
class CallRecorderHook(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.calls = []

    def _add(self, runner, name, batch_idx=None):
        self.calls.append([name, runner.epoch, runner.iter, batch_idx])

    def before_train(self, runner):
        self._add(runner, 'before_train')

    def before_train_epoch(self, runner):
        self._add(runner, 'before_train_epoch')

    def after_train_epoch(self, runner):
        self._add(runner, 'after_train_epoch')

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self._add(runner, 'before_train_iter', batch_idx)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self._add(runner, 'after_train_iter', batch_idx)

    def before_stage2(self, runner, proposal_file=None):
        self._add(runner, 'before_stage2')

    def after_val_epoch(self, runner, metrics=None):
        self._add(runner, 'after_val_epoch')

    def after_train(self, runner):
        self._add(runner, 'after_train')
        with open(osp.join(runner.work_dir, 'hook_calls.json'), 'w') as f:
            json.dump(self.calls, f)
