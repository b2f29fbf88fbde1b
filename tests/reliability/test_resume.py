"""Interruption and resume: a run SIGKILLed in stage 1, right after the
switch and in stage 2, each time resumed with ``--resume``, ends with the
same stage2.pth (every tensor equal) and the same test metrics as a run that
was never interrupted. Plus unit tests of RNGStateHook."""
import os.path as osp
import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from hrpro_plugin.engine.hooks.rng_state_hook import (RNGStateHook,
                                                      get_rng_state,
                                                      set_rng_state)
from reliability._runs import (TEST_CONFIG, assert_same_state,
                               run_test_tool, train, write_config)


def _draws():
    return (random.random(), float(np.random.rand()), torch.rand(3))


def _runner(resume):
    return SimpleNamespace(_resume=resume)


def test_rng_state_round_trip_on_resume():
    """The saved states come back exactly once, at the first
    ``before_train_iter`` after the load.

    The checkpoint is written, then the run draws ``first`` and ``second``
    (what the uninterrupted run drew in its next two iterations) and more.
    Resumed: something draws between the load and the first iteration (as
    ``Runner.resume()`` and the loop may); iteration 0 must then draw
    ``first`` and iteration 1 ``second``. Restored zero times, iteration 0
    draws something else; restored at the load instead of at the first
    iteration, iteration 0 draws ``second`` (the draw in between consumed
    ``first``); restored at every iteration, iteration 1 draws ``first``
    again."""
    hook = RNGStateHook()
    ckpt = {}
    hook.before_save_checkpoint(None, ckpt)
    first = _draws()
    second = _draws()
    assert first[0] != second[0]
    _draws()  # the state moves on (the killed run went further)
    hook.after_load_checkpoint(_runner(True), ckpt)
    _draws()  # drawn between the load and the first resumed iteration
    hook.before_train_iter(None, 0)
    got = _draws()
    assert got[:2] == first[:2] and torch.equal(got[2], first[2])
    hook.before_train_iter(None, 1)
    got = _draws()
    assert got[:2] == second[:2] and torch.equal(got[2], second[2])


def test_rng_state_not_restored_when_only_loading():
    """load_from (fine-tuning, testing) keeps the run's own seed."""
    hook = RNGStateHook()
    ckpt = {}
    hook.before_save_checkpoint(None, ckpt)
    expected = _draws()
    hook.after_load_checkpoint(_runner(False), ckpt)
    hook.before_train_iter(None, 0)
    assert _draws()[0] != expected[0]


def test_rng_state_missing_or_from_other_devices():
    hook = RNGStateHook()
    hook.after_load_checkpoint(_runner(True), {})  # written without the hook
    assert hook._pending is None  # (a warning says so)
    # saved by 2 processes, resumed by 1: not restored (warning)
    state = get_rng_state()
    hook.after_load_checkpoint(_runner(True), dict(rng_state=dict(
        per_rank=[state, state])))
    assert hook._pending is None


def test_cuda_rng_state_skipped_on_a_cpu_machine(monkeypatch):
    """A GPU run resumed on a CPU-only machine: the CPU generators are
    restored, the CUDA ones reported as skipped."""
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    hook = RNGStateHook()
    state = get_rng_state()
    state['cuda'] = [torch.zeros(16, dtype=torch.uint8)]
    assert set_rng_state(dict(state)) == ['cuda']
    expected = _draws()
    hook.after_load_checkpoint(_runner(True),
                               dict(rng_state=dict(per_rank=[state])))
    hook.before_train_iter(None, 0)
    assert _draws()[0] == expected[0]


@pytest.mark.slow
def test_killed_three_times_then_resumed_equals_uninterrupted(
        reference_run, tmp_path):
    """One work dir, four processes (checkpoint every 4 iterations; stage 1
    = 12 iterations, stage 2 = 2 epochs x 3 batches):
    1. killed after iteration 6 (stage 1; last checkpoint iter_4);
    2. resumed from iter_4, killed at the switch after the mining (last
       checkpoint iter_12, the end of stage 1 = the start of stage-2 epoch 1);
    3. resumed from iter_12 (mining reused), killed after iteration 17
       (last checkpoint iter_16: stage-2 epoch 2, batch 1 of 3);
    4. resumed from iter_16 to the end.
    """
    data_root = reference_run['data_root']
    work_dir = str(tmp_path / 'work')
    steps = [
        ([dict(type='SelfKillHook', at_iter=6)], False, None),
        ([dict(type='SelfKillHook', at_event='before_stage2')], True,
         'iter_4.pth'),
        ([dict(type='SelfKillHook', at_iter=17)], True, 'iter_12.pth'),
        ([], True, 'iter_16.pth'),
    ]
    logs = []
    for i, (hooks, resume, resume_from) in enumerate(steps):
        config = write_config(tmp_path / f'step{i}.py', hooks=hooks)
        proc = train(config, data_root, work_dir,
                     *(['--resume'] if resume else []), check=False)
        text = proc.stdout + proc.stderr
        logs.append(text)
        last = i == len(steps) - 1
        assert proc.returncode == (0 if last else -9), text[-3000:]
        if resume_from:
            assert ('Auto resumed from the latest checkpoint '
                    f'{osp.join(work_dir, resume_from)}') in text
            assert 'restored the RNG states of the checkpoint' in text
    assert 'reusing mined proposals' in logs[2]  # never mined twice
    assert 'resuming stage 2 at epoch 2, batch 1' in logs[3]

    ref = reference_run['work_dir']
    for name in ('stage1.pth', 'stage2.pth'):
        assert_same_state(osp.join(ref, name), osp.join(work_dir, name))
    ref_mined = torch.load(osp.join(ref, 'mined_proposals.pt'),
                           weights_only=False)
    got_mined = torch.load(osp.join(work_dir, 'mined_proposals.pt'),
                           weights_only=False)
    for part in ('pp', 'rp', 'np'):
        for key, value in ref_mined[part].items():
            assert torch.equal(value, got_mined[part][key]), (part, key)

    metrics, results = run_test_tool(
        TEST_CONFIG, osp.join(work_dir, 'stage2.pth'), data_root,
        str(tmp_path / 'test'), out=str(tmp_path / 'results.json'))
    assert metrics == reference_run['metrics']
    assert results == reference_run['results']
