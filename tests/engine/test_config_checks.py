"""Config mistakes fail when training starts, before any iteration, with
one line naming the key."""
import os.path as osp

import pytest

from _helpers import TINY_TRAIN_OPTIONS, run_tool

CASES = [
    (['train_cfg.stage2_dataloader=None'],
     'train_cfg.stage2_epochs=2 but train_cfg.stage2_dataloader is missing '
     'or empty'),
    # the config's custom_hooks are [PrototypeInitHook, ProposalMiningHook]
    (['custom_hooks.1.type=RNGStateHook'],
     'stage 2 needs exactly one ProposalMiningHook in custom_hooks, found 0'),
    (['custom_hooks.0.type=ProposalMiningHook'],
     'stage 2 needs exactly one ProposalMiningHook in custom_hooks, found 2'),
    (['custom_hooks.0.type=RNGStateHook'],
     'custom_hooks needs exactly one PrototypeInitHook, found 0'),
    (['train_cfg.stage1_iters=-5'],
     'train_cfg.stage1_iters must be an integer >= 0, got -5'),
    (['train_cfg.stage2_dataloader.batch_size=0'],
     'train_cfg.stage2_dataloader.batch_size must be a positive integer, '
     'got 0'),
    (['train_cfg.val_interval=0'],
     'train_cfg.val_interval must be a positive integer, got 0'),
    (['train_cfg.stage2_val_interval=-1'],
     'train_cfg.stage2_val_interval must be a positive integer, got -1'),
    (['optim_wrapper.optimizer.lr=fast'],
     "optim_wrapper.optimizer.lr must be a number, got 'fast' (str)"),
]


@pytest.mark.parametrize('options,message', CASES,
                         ids=[c[1][:30] for c in CASES])
def test_bad_config_fails_before_training(tiny_dataset, tmp_path, options,
                                          message):
    work = str(tmp_path / 'w')
    proc = run_tool('tools/train.py', 'configs/hrpro_synthetic.py',
                    '--data-root', tiny_dataset, '--work-dir', work,
                    '--cfg-options', *TINY_TRAIN_OPTIONS, *options,
                    check=False, timeout=120)
    assert proc.returncode == 1, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith('error: ') and message in last
    assert 'Traceback' not in proc.stderr
    # nothing trained: no prototype initialisation, no iteration
    assert 'initialising prototypes' not in proc.stdout + proc.stderr
    assert 'Iter(train)' not in proc.stdout + proc.stderr
    assert not osp.exists(osp.join(work, 'stage1.pth'))
