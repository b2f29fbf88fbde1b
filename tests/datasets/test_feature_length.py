"""The number of feature rows must agree with the annotated duration."""
import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest

from hrpro_plugin.datasets import PointTALDataset
from hrpro_plugin.datasets.parsers.errors import DataError

from _helpers import make_tiny_dataset


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return make_tiny_dataset(tmp_path_factory.mktemp('len_data'))


def _copy(tiny, tmp_path):
    root = str(tmp_path / 'data')
    shutil.copytree(tiny, root)
    return root


def _build(root, **kw):
    return PointTALDataset(root, split_file='split_train.txt',
                           feature_dir='features/train', **kw)


def _video(root, i=2):
    names = sorted(os.listdir(osp.join(root, 'features', 'train')))
    return names[i][:-4]


def test_lengths_of_the_generator_pass(tiny):
    ds = _build(tiny)
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert abs(info['num_snippets'] - info['duration'] / 0.64) <= 1


def test_truncated_features_are_refused(tiny, tmp_path):
    root = _copy(tiny, tmp_path)
    video = _video(root)
    path = osp.join(root, 'features', 'train', video + '.npy')
    np.save(path, np.load(path)[:10])
    with open(osp.join(root, 'gt_full.json')) as f:
        duration = json.load(f)['database'][video]['duration']
    with pytest.raises(DataError) as err:
        _build(root)
    msg = str(err.value)
    assert msg.startswith(f'{path}: video {video}: 10 feature rows (6.40 s '
                          'at 0.64 s a snippet) but ')
    assert (f'gives a duration of {duration:.2f} s '
            f'({duration / 0.64:.1f} snippets); more than 2 snippets apart'
            in msg)
    assert 'snippet_frames (16) and feature_fps (25)' in msg
    # the check can be switched off
    assert len(_build(root, length_tolerance=None)) > 0


def test_features_at_another_rate_are_refused(tiny, tmp_path):
    """Features at one row a second under a 0.64 s snippet config."""
    root = _copy(tiny, tmp_path)
    video = _video(root, 0)
    path = osp.join(root, 'features', 'train', video + '.npy')
    feats = np.load(path)
    keep = np.arange(0, len(feats), 1 / 0.64).astype(int)
    np.save(path, feats[keep])
    with pytest.raises(DataError, match=f'video {video}: {len(keep)} feature '
                       'rows'):
        _build(root)
    # the right snippet length for those features passes this video
    ds = _build(root, snippet_frames=25, length_tolerance=None)
    assert len(ds) > 0


def test_one_or_two_rows_off_pass(tiny, tmp_path):
    root = _copy(tiny, tmp_path)
    video = _video(root, 1)
    path = osp.join(root, 'features', 'train', video + '.npy')
    feats = np.load(path)
    np.save(path, np.concatenate([feats, feats[-1:]]))
    assert len(_build(root)) > 0
