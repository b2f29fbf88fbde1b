"""Non-finite training stops with one line naming the step or the culprit
video, and writes no checkpoint of NaN weights."""
import os
import os.path as osp

import numpy as np
import pytest

from _helpers import TINY_TRAIN_OPTIONS, make_tiny_dataset, run_tool


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return make_tiny_dataset(tmp_path_factory.mktemp('nonfinite_data'))


def _train(root, work, *options):
    return run_tool('tools/train.py', 'configs/hrpro_synthetic.py',
                    '--data-root', root, '--work-dir', work,
                    '--cfg-options', *TINY_TRAIN_OPTIONS, *options,
                    check=False, timeout=300)


def test_huge_features_named_before_training(tiny, tmp_path):
    root = str(tmp_path / 'data')
    import shutil
    shutil.copytree(tiny, root)
    train_dir = osp.join(root, 'features', 'train')
    victim = sorted(os.listdir(train_dir))[3]
    path = osp.join(train_dir, victim)
    np.save(path, np.load(path) * np.float32(1e30))
    work = str(tmp_path / 'work')
    proc = _train(root, work)
    assert proc.returncode == 1
    err = proc.stderr.strip().splitlines()[-1]
    assert err == (
        'error: non-finite stage-1 outputs while initialising the prototype '
        f'memory, for videos {victim[:-4]}; their features are not finite or '
        f'above 1e6 in: {victim[:-4]}. Fix those feature files.')
    assert 'Traceback' not in proc.stderr
    assert not osp.exists(osp.join(work, 'stage1.pth'))


def test_diverging_loss_stops_at_its_step(tiny, tmp_path):
    work = str(tmp_path / 'work')
    proc = _train(tiny, work, 'optim_wrapper.optimizer.lr=1e30')
    assert proc.returncode == 1
    err = proc.stderr.strip().splitlines()[-1]
    assert err.startswith('error: non-finite loss at training step 2 '
                          '(stage 1): loss=')
    assert 'Batch videos: synthetic_train_' in err
    assert "every video's features are finite" in err
    assert 'optim_wrapper.optimizer.lr' in err
    assert not osp.exists(osp.join(work, 'stage1.pth'))


def test_test_video_with_non_finite_outputs_is_reported(tiny_run, tmp_path):
    import shutil
    root = str(tmp_path / 'data')
    shutil.copytree(tiny_run['data_root'], root)
    test_dir = osp.join(root, 'features', 'test')
    victim = sorted(os.listdir(test_dir))[1]
    path = osp.join(test_dir, victim)
    np.save(path, np.load(path) * np.float32(1e30))
    proc = run_tool('tools/test.py', tiny_run['config'],
                    osp.join(tiny_run['work_dir'], 'stage2.pth'),
                    '--data-root', root, '--work-dir', str(tmp_path / 'w'),
                    check=False, timeout=300)
    assert proc.returncode == 1
    err = proc.stderr.strip().splitlines()[-1]
    assert err == (f'error: non-finite stage-1 outputs for test video(s) '
                   f'{victim[:-4]}: they cannot be scored; features not '
                   f'finite or above 1e6 in: {victim[:-4]}')
