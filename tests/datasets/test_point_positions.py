"""Points carry their exact time (in snippets) next to their snippet index:
the reliable-proposal rule of stage 2 compares proposals with it."""
import csv
import json
import os.path as osp

import numpy as np

from hrpro_plugin.datasets import PointTALDataset

from _helpers import make_tiny_dataset


def test_positions_are_exact_times(tmp_path):
    root = make_tiny_dataset(tmp_path / 'data')
    ds = PointTALDataset(root, split_file='split_train.txt',
                         feature_dir='features/train',
                         pipeline=[dict(type='LoadSnippetFeatures'),
                                   dict(type='PackPointTALInputs')])
    with open(osp.join(root, 'gt_full.json')) as f:
        db = json.load(f)['database']
    with open(osp.join(root, 'point_labels', 'point_gaussian.csv')) as f:
        rows = list(csv.DictReader(f))
    data = ds[0]
    sample = data['data_samples']
    video = sample.metainfo['video_name']
    fps = db[video]['fps']
    frames = sorted(float(r['point']) for r in rows if r['video_id'] == video)
    exp = np.array(frames) * 25 / (fps * 16)
    pts = sample.gt_points
    got = np.sort(pts.positions.numpy())
    np.testing.assert_allclose(got, exp, rtol=0, atol=1e-9)
    # the snippet is the integer part of the position
    np.testing.assert_array_equal(
        np.floor(pts.positions.numpy()).astype(int), pts.snippets.numpy())
