"""TwoStageTrainLoop behaves as MMEngine's loops: hook calls, validation
and save_best, epoch-based schedulers and checkpoints in stage 2,
--no-validate, quiet logs."""
import glob
import json
import os
import os.path as osp

import pytest
import torch

from _helpers import REPO_ROOT, TINY_TRAIN_OPTIONS, run_tool

HERE = osp.dirname(osp.abspath(__file__))
VAL_CONFIG = 'configs/hrpro_synthetic_val.py'
# TINY_TRAIN_OPTIONS: 12 stage-1 iterations of 4 videos, 2 stage-2 epochs
# of 4 videos; the tiny set has 10 training videos
VAL_OPTIONS = TINY_TRAIN_OPTIONS + [
    'train_cfg.val_interval=6', 'train_cfg.stage2_val_interval=1',
    'param_scheduler.0.milestones=[1]']


def _env():
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (HERE, REPO_ROOT, env.get('PYTHONPATH')) if p)
    return env


def _scalars(work_dir):
    (path, ) = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope='module')
def val_run(tiny_dataset, tmp_path_factory):
    work = str(tmp_path_factory.mktemp('val_run'))
    proc = run_tool('tools/train.py', VAL_CONFIG, '--data-root',
                    tiny_dataset, '--work-dir', work, '--cfg-options',
                    *VAL_OPTIONS, env=_env(), timeout=300)
    return work, proc


def test_validation_runs_on_held_out_videos_and_keeps_the_best(val_run):
    work, proc = val_run
    log = proc.stdout + proc.stderr
    # 10 training videos, 20 % held out: 2 validate, 8 train (mining too)
    assert 'holdout(ratio=0.2, seed=0): 2 of 10 videos held out' in log
    assert 'this set uses the val part (2 videos)' in log
    assert 'mining proposals: 8 videos' in log
    vals = [s for s in _scalars(work) if 'mAP_avg' in s]
    # stage 1 at iterations 6 and 12, stage 2 after epochs 1 and 2
    # (2 batches each: iterations 14 and 16)
    assert [s['step'] for s in vals] == [6, 12, 14, 16]
    best = max(vals, key=lambda s: s['mAP_avg'])
    files = glob.glob(osp.join(work, 'best_mAP_avg_iter_*.pth'))
    assert [osp.basename(f) for f in files] == [
        f'best_mAP_avg_iter_{best["step"]}.pth']
    ckpt = torch.load(files[0], map_location='cpu', weights_only=False)
    assert ckpt['meta']['iter'] == best['step']
    assert ckpt['message_hub']['runtime_info']['best_score'] == \
        pytest.approx(best['mAP_avg'])


def test_epoch_scheduler_steps_at_its_stage2_milestone(val_run):
    work, _ = val_run
    # instance head lr = 1e-4 x 0.5; MultiStepLR(milestones=[1]) divides
    # it by 10 after stage-2 epoch 1. Stage 1 logs the stage-1 lr.
    lrs = {s['step']: s['lr'] for s in _scalars(work) if 'lr' in s}
    assert lrs[12] == pytest.approx(1e-4)          # stage 1
    assert lrs[14] == pytest.approx(5e-5)          # stage 2, epoch 1
    assert lrs[16] == pytest.approx(5e-6)          # stage 2, epoch 2


def test_logs_are_quiet_and_stage2_counts_epochs(val_run):
    _, proc = val_run
    log = proc.stdout + proc.stderr
    assert 'paramwise_options' not in log
    assert 'Hooks will be executed' not in log
    assert 'stage 2: epoch 1/2 (2 batches)' in log
    assert 'Epoch(train) [2][2/2]' in log
    # progress in a log (not a terminal): short lines, no bar
    assert 'mining proposals: 8/8' in log
    assert max(len(line) for line in log.splitlines()
               if 'mining' in line or 'prototypes' in line) < 200


def test_hook_calls_match_mmengine_loops(tiny_dataset, tmp_path):
    work = str(tmp_path / 'w')
    config = tmp_path / 'recorded.py'
    config.write_text(
        f"_base_ = [{osp.join(REPO_ROOT, 'configs/hrpro_synthetic.py')!r}]\n"
        "custom_imports = dict(imports=['hrpro_plugin', '_call_recorder'], "
        "allow_failed_imports=False)\n"
        "custom_hooks = [dict(type='PrototypeInitHook'), "
        "dict(type='ProposalMiningHook'), dict(type='CallRecorderHook')]\n")
    run_tool('tools/train.py', str(config), '--data-root', tiny_dataset,
             '--work-dir', work, '--cfg-options', *TINY_TRAIN_OPTIONS,
             env=_env(), timeout=300)
    with open(osp.join(work, 'hook_calls.json')) as f:
        calls = [tuple(c) for c in json.load(f)]
    # stage 1 (IterBasedTrainLoop): one before_train_epoch, batch_idx =
    # global iteration; the switch; stage 2 (EpochBasedTrainLoop): epochs
    # of 2 batches (8 videos / 4), batch_idx within the epoch, runner.epoch
    # counting stage-2 epochs
    expected = [('before_train', 0, 0, None),
                ('before_train_epoch', 0, 0, None)]
    for i in range(12):
        expected += [('before_train_iter', 0, i, i),
                     ('after_train_iter', 0, i, i)]
    expected.append(('before_stage2', 0, 12, None))
    it = 12
    for epoch in range(2):
        expected.append(('before_train_epoch', epoch, it, None))
        for b in range(3):  # 10 videos / 4 a batch
            expected += [('before_train_iter', epoch, it, b),
                         ('after_train_iter', epoch, it, b)]
            it += 1
        expected.append(('after_train_epoch', epoch, it, None))
    expected.append(('after_train', 2, it, None))
    assert calls == expected


def test_epoch_checkpoints_are_numbered_by_stage2_epoch(tiny_dataset,
                                                        tmp_path):
    work = str(tmp_path / 'w')
    run_tool('tools/train.py', 'configs/hrpro_synthetic.py', '--data-root',
             tiny_dataset, '--work-dir', work, '--cfg-options',
             *TINY_TRAIN_OPTIONS, 'default_hooks.checkpoint.by_epoch=True',
             'default_hooks.checkpoint.interval=1',
             'default_hooks.checkpoint.max_keep_ckpts=-1', env=_env(),
             timeout=300)
    names = sorted(osp.basename(p)
                   for p in glob.glob(osp.join(work, 'epoch_*.pth')))
    assert names == ['epoch_1.pth', 'epoch_2.pth']
    meta = torch.load(osp.join(work, 'epoch_1.pth'), map_location='cpu',
                      weights_only=False)['meta']
    # 12 stage-1 iterations + one epoch of 3 batches
    assert (meta['epoch'], meta['iter']) == (1, 15)


def test_no_validate_skips_validation(tiny_dataset, tmp_path):
    work = str(tmp_path / 'w')
    proc = run_tool('tools/train.py', VAL_CONFIG, '--data-root',
                    tiny_dataset, '--work-dir', work, '--no-validate',
                    '--cfg-options', *VAL_OPTIONS, env=_env(), timeout=300)
    assert '(val)' not in proc.stdout + proc.stderr
    assert not glob.glob(osp.join(work, 'best_*.pth'))
    assert osp.exists(osp.join(work, 'stage2.pth'))
