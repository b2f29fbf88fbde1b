"""Every config loads; GTEA / BEOID / ActivityNet configs fit the real
annotation files (random features stand in for the real ones)."""
import copy
import csv
import glob
import json
import math
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config

from _helpers import REPO_ROOT

CONFIG_DIR = osp.join(REPO_ROOT, 'configs')
FULL_CONFIGS = sorted(
    glob.glob(osp.join(CONFIG_DIR, '*.py')) +
    glob.glob(osp.join(CONFIG_DIR, 'ablations', '*.py')))
BASE_CONFIGS = sorted(
    glob.glob(osp.join(CONFIG_DIR, '_base_', '**', '*.py'), recursive=True))


def _rel(path):
    return osp.relpath(path, CONFIG_DIR)


def test_configs_found():
    names = {_rel(p) for p in FULL_CONFIGS}
    assert {'hrpro_thumos14.py', 'hrpro_gtea.py', 'hrpro_beoid.py',
            'hrpro_anet13.py', 'hrpro_synthetic.py'} <= names
    assert any(n.startswith('ablations') for n in names)


@pytest.mark.parametrize('path', FULL_CONFIGS, ids=_rel)
def test_config_loads_with_scope_and_plugin(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmaction'
    assert 'hrpro_plugin' in cfg.custom_imports['imports']
    assert cfg.model.type == 'HRPro'
    for key in ('train_dataloader', 'test_dataloader', 'test_evaluator',
                'train_cfg', 'optim_wrapper'):
        assert cfg.get(key), key
    assert cfg.test_evaluator.type == 'TALmAPMetric'


@pytest.mark.parametrize('path', BASE_CONFIGS, ids=_rel)
def test_base_config_loads(path):
    Config.fromfile(path)


# ------------------------------------------------------------------ GTEA/BEOID
def _real_root(shared_data, name, tmp_path, feat_dim=16):
    """A dataset root with the real annotation files (symlinks) and random
    features of the length the config's snippet settings imply."""
    src = osp.join(shared_data, name)
    root = tmp_path / name
    (root / 'point_labels').mkdir(parents=True)
    for f in ('gt_full.json', 'split_train.txt', 'split_test.txt',
              'point_labels/point_gaussian.csv'):
        os.symlink(osp.join(src, f), root / f)
    return str(root), src


def _write_features(root, src, db, snippet_seconds, feat_dim, rng):
    lengths = {}
    for split in ('train', 'test'):
        folder = osp.join(root, 'features', split)
        os.makedirs(folder)
        for video in open(osp.join(src, f'split_{split}.txt')).read().split():
            T = max(1, math.ceil(db[video]['duration'] / snippet_seconds
                                 - 1e-6))
            np.save(osp.join(folder, video + '.npy'),
                    rng.standard_normal((T, feat_dim)).astype(np.float32))
            lengths[video] = T
    return lengths


def _no_feat_dim(cfg):
    """Random 16-d features instead of the configs' 2048-d I3D ones."""
    cfg.merge_from_dict({
        'feat_dim': None,
        'train_dataloader.dataset.feat_dim': None,
        'test_dataloader.dataset.feat_dim': None,
        'train_cfg.stage2_dataloader.dataset.feat_dim': None,
    })


@pytest.mark.parametrize('name,num_classes,num_train,num_test', [
    ('GTEA', 7, 21, 7), ('BEOID', 34, 46, 12)])
def test_gtea_beoid_build_from_real_annotations(shared_data, tmp_path, name,
                                                num_classes, num_train,
                                                num_test):
    import torch
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope

    import hrpro_plugin  # noqa: F401
    from hrpro_plugin.apis import apply_data_root, fill_model_dims
    from mmaction.registry import DATASETS, MODELS

    cfg = Config.fromfile(osp.join(CONFIG_DIR, f'hrpro_{name.lower()}.py'))
    assert cfg.num_classes == num_classes
    assert cfg.test_evaluator.tiou_thresholds == pytest.approx(
        [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    assert cfg.test_evaluator.ambiguous_file is None
    assert not cfg.test_evaluator.blocked_videos
    ds_cfg = cfg.train_dataloader.dataset
    sec = ds_cfg.snippet_frames / ds_cfg.feature_fps
    assert sec == pytest.approx(0.64)
    assert cfg.train_cfg.stage2_dataloader.dataset.pipeline[-1].type == \
        'LoadMinedProposals'

    root, src = _real_root(shared_data, name, tmp_path)
    db = json.load(open(osp.join(src, 'gt_full.json')))['database']
    lengths = _write_features(root, src, db, sec, 16,
                              np.random.default_rng(0))
    _no_feat_dim(cfg)
    apply_data_root(cfg, root)
    fill_model_dims(cfg)
    assert cfg.model.num_classes == num_classes and cfg.model.feat_dim == 16

    train = DATASETS.build(copy.deepcopy(cfg.train_dataloader.dataset))
    test = DATASETS.build(copy.deepcopy(cfg.test_dataloader.dataset))
    stage2 = DATASETS.build(
        copy.deepcopy(cfg.train_cfg.stage2_dataloader.dataset))
    assert len(train) == num_train and len(test) == num_test
    assert len(stage2) == num_train
    for ds in (train, test):
        assert len(ds.metainfo['classes']) == num_classes
    assert train.metainfo['classes'] == test.metainfo['classes']
    points = sum(len(train.get_data_info(i)['point_labels'])
                 for i in range(len(train)))
    with open(osp.join(src, 'point_labels', 'point_gaussian.csv')) as f:
        train_videos = set(open(osp.join(src, 'split_train.txt')).read()
                           .split())
        assert points == sum(r['video_id'] in train_videos
                             for r in csv.DictReader(f))

    # the model of the config runs on two test videos
    init_default_scope('mmaction')
    model = MODELS.build(cfg.model).eval()
    batch = pseudo_collate([test[0], test[1]])
    with torch.no_grad():
        out = model.test_step(batch)
    for sample in out:
        assert sample.metainfo['num_snippets'] == \
            lengths[sample.metainfo['video_name']]
        assert 'segments' in sample.pred_instances


# ------------------------------------------------------------- ActivityNet
def test_anet13_config_fits_the_real_layout(shared_data, tmp_path):
    import hrpro_plugin  # noqa: F401
    from hrpro_plugin.apis import apply_data_root
    from hrpro_plugin.datasets.parsers.point_csv import load_point_csv
    from hrpro_plugin.datasets.parsers.splits import load_split
    from mmaction.registry import DATASETS

    real = osp.join(shared_data, 'ActivityNet1.3')
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'hrpro_anet13.py'))
    assert cfg.num_classes == 200
    assert cfg.test_evaluator.tiou_thresholds == pytest.approx(
        [0.5 + 0.05 * i for i in range(10)])
    assert cfg.test_evaluator.ambiguous_file is None
    assert not cfg.test_evaluator.blocked_videos
    assert not cfg.test_dataloader.dataset.blocked_videos

    # every file the config names exists in the real folder, except
    # gt_full.json and the features (not distributed here)
    apply_data_root(cfg, real)
    for key in ('train_dataloader', 'test_dataloader'):
        ds = cfg[key].dataset
        assert ds.data_root == real
        for field in ('split_file', 'point_file'):
            assert osp.isfile(osp.join(real, ds[field])), (key, field)
        assert ds.ann_file == 'gt_full.json'
        assert ds.feature_dir.startswith('features/')

    ds = cfg.train_dataloader.dataset
    rows, has_index = load_point_csv(osp.join(real, ds.point_file))
    assert not has_index
    classes = sorted({r.label for r in rows})
    assert len(classes) == 200
    train = load_split(osp.join(real, ds.split_file))
    test = load_split(osp.join(real, cfg.test_dataloader.dataset.split_file))
    assert all(v.startswith('v_') for v in train + test)
    assert all(r.video.startswith('v_') for r in rows)
    assert {r.video for r in rows} <= set(train)  # points: training only
    assert not set(train) & set(test)

    # build the train and test datasets with the real points and splits and
    # a gt_full.json made from the points' instances (frames at 30 fps)
    fps, sec = 30.0, ds.snippet_frames / ds.feature_fps
    cover, seen = [], set()  # a few training videos covering every class
    for r in rows:
        if r.label not in seen:
            seen.add(r.label)
            if r.video not in cover:
                cover.append(r.video)
    rows_of = {}
    with open(osp.join(real, ds.point_file), newline='') as f:
        for r in csv.DictReader(f):
            rows_of.setdefault(r['video_id'], []).append(r)
    db = {}
    for video, vrows in rows_of.items():
        anns = [dict(label=r['class'],
                     segment=[float(r['start_frame']) / fps,
                              float(r['stop_frame']) / fps]) for r in vrows]
        end = max(max(a['segment'][1] for a in anns),
                  max(float(r['point']) for r in vrows) / fps)
        db[video] = dict(subset='training', fps=fps, duration=end + 1.0,
                         annotations=anns)
    test_videos = test[:4]
    for i, video in enumerate(test_videos):
        db[video] = dict(subset='validation', fps=fps, duration=30.0,
                         annotations=[dict(label=classes[i],
                                           segment=[2.0, 9.0])])
    root = tmp_path / 'anet'
    (root / 'point_labels').mkdir(parents=True)
    os.symlink(osp.join(real, ds.point_file), root / ds.point_file)
    (root / 'gt_full.json').write_text(json.dumps(dict(database=db)))
    (root / 'split_train.txt').write_text('\n'.join(cover) + '\n')
    (root / 'split_test.txt').write_text('\n'.join(test_videos) + '\n')
    rng = np.random.default_rng(0)
    for split, videos in (('train', cover), ('test', test_videos)):
        (root / 'features' / split).mkdir(parents=True)
        for v in videos:
            T = math.ceil(db[v]['duration'] / sec)
            np.save(root / 'features' / split / f'{v}.npy',
                    rng.standard_normal((T, 8)).astype(np.float32))
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'hrpro_anet13.py'))
    _no_feat_dim(cfg)
    apply_data_root(cfg, str(root))
    train_ds = DATASETS.build(copy.deepcopy(cfg.train_dataloader.dataset))
    test_ds = DATASETS.build(copy.deepcopy(cfg.test_dataloader.dataset))
    assert list(train_ds.metainfo['classes']) == classes
    assert list(test_ds.metainfo['classes']) == classes
    assert len(train_ds) == len(cover) and len(test_ds) == 4
    names = [train_ds.get_data_info(i)['video_name']
             for i in range(len(train_ds))]
    assert names == cover  # 'v_' kept
    sample = test_ds[0]
    assert sample['data_samples'].metainfo['video_name'] == test_videos[0]


def test_every_full_config_caps_detections_per_video():
    """The shipped configs keep at most 500 detections a video (measured to
    cost 0.05 avg mAP on THUMOS14-scale synthetic data)."""
    from mmengine.config import Config
    for name in ('hrpro_thumos14', 'hrpro_gtea', 'hrpro_beoid', 'hrpro_anet13',
                 'hrpro_synthetic'):
        cfg = Config.fromfile(f'configs/{name}.py')
        assert cfg.model.post_processor.top_k == 500, name
        # and at most 2,000 candidates a video enter the instance head
        assert cfg.model.test_cfg == dict(max_candidates=2000), name
