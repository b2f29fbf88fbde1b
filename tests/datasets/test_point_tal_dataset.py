"""PointTALDataset on tiny hand-made datasets (known answers) and on the real
annotation files of THUMOS14, GTEA and BEOID with random features."""
import copy
import csv
import json
import math
import os.path as osp

import numpy as np
import pytest
import torch

import hrpro_plugin.datasets.point_tal_dataset as ptd_module
from hrpro_plugin.datasets import DataError, MissingFileError, PointTALDataset

D = 4
PIPELINE = [dict(type='LoadSnippetFeatures'), dict(type='PackPointTALInputs')]

# v1: 10 s at 30 fps -> T = ceil(10 * 25 / 16) = 16 snippets
# v2: 6.4 s at 25 fps -> T = 10
# v3: no point (excluded from training with a warning)
BASE_DB = {
    'v1': {'subset': 'train', 'duration': 10.0, 'fps': 30.0, 'annotations': [
        {'label': 'Run', 'segment': [1.0, 2.0]},
        {'label': 'Jump', 'segment': [5.0, 6.5]},
        {'label': 'Run', 'segment': [3.0, 4.2]}]},
    'v2': {'subset': 'train', 'duration': 6.4, 'fps': 25.0, 'annotations': [
        {'label': 'Jump', 'segment': [0.0, 1.0]}]},
    'v3': {'subset': 'train', 'duration': 3.2, 'fps': 25.0, 'annotations': [
        {'label': 'Jump', 'segment': [0.5, 1.0]}]},
    't1': {'subset': 'test', 'duration': 3.2, 'fps': 25.0, 'annotations': [
        {'label': 'Run', 'segment': [0.5, 1.0]}]},
}
# (class, class_index, video, frame); class_index order: Run=0, Jump=1
BASE_ROWS = [
    ('Jump', 1, 'v1', 170),  # 170 * 25 / 480 = 8.85 -> 8
    ('Run', 0, 'v1', 45),  # 2.34 -> 2
    ('Run', 0, 'v1', 100),  # 5.21 -> 5  } two classes share snippet 5
    ('Jump', 1, 'v1', 96),  # 5.00 -> 5  }
    ('Jump', 1, 'v1', 310),  # 16.1 -> clamped to 15 (10.33 s < 10 + 0.64)
    ('Jump', 1, 'v2', 0),  # 0
]


def t_of(entry):
    return math.ceil(entry['duration'] * 25 / 16)


def make_root(root, db=None, rows=None, split=('v1', 'v2', 'v3'),
              class_index=True, layout='single', dim=D, seed=0):
    """Write gt_full.json, point CSV, split_train.txt and features."""
    db = copy.deepcopy(BASE_DB if db is None else db)
    rows = BASE_ROWS if rows is None else rows
    root.mkdir(parents=True, exist_ok=True)
    (root / 'gt_full.json').write_text(json.dumps({'database': db}))
    (root / 'point_labels').mkdir(exist_ok=True)
    with open(root / 'point_labels' / 'point_gaussian.csv', 'w',
              newline='') as f:
        w = csv.writer(f)
        if class_index:
            w.writerow(['class', 'class_index', 'start_frame', 'stop_frame',
                        'video_id', 'point'])
            for c, i, v, p in rows:
                w.writerow([c, i, p - 5, p + 5, v, p])
        else:
            w.writerow(['class', 'start_frame', 'stop_frame', 'video_id',
                        'point'])
            for c, _, v, p in rows:
                w.writerow([c, p - 5, p + 5, v, p])
    (root / 'split_train.txt').write_text('\n'.join(split) + '\n')
    rng = np.random.default_rng(seed)
    feats = {}
    for v in split:
        if v not in db:
            continue
        arr = rng.standard_normal((t_of(db[v]), dim)).astype(np.float32)
        feats[v] = arr
        if layout == 'single':
            (root / 'features' / 'train').mkdir(parents=True, exist_ok=True)
            np.save(root / 'features' / 'train' / f'{v}.npy', arr)
        else:
            for sub, part in (('rgb', arr[:, :dim // 2]),
                              ('flow', arr[:, dim // 2:])):
                (root / 'features' / 'train' / sub).mkdir(
                    parents=True, exist_ok=True)
                np.save(root / 'features' / 'train' / sub / f'{v}.npy', part)
    return feats


def build(root, **kwargs):
    kwargs.setdefault('serialize_data', False)
    return PointTALDataset(data_root=str(root), **kwargs)


@pytest.fixture
def warnings_log(monkeypatch):
    """Messages passed to print_log at WARNING level by the dataset."""
    import logging
    got = []

    def fake_print_log(msg, logger=None, level=logging.INFO):
        if level >= logging.WARNING:
            got.append(msg)

    monkeypatch.setattr(ptd_module, 'print_log', fake_print_log)
    return got


def info_by_name(ds):
    return {ds.get_data_info(i)['video_name']: ds.get_data_info(i)
            for i in range(len(ds))}


# ------------------------------------------------------------- known answers
def test_known_answers_and_exclusion_warning(tmp_path, warnings_log):
    make_root(tmp_path)
    ds = build(tmp_path, serialize_data=True)
    assert ds.metainfo['classes'] == ('Run', 'Jump')  # by class_index
    assert len(ds) == 2
    assert len(warnings_log) == 1  # ONE warning listing the excluded videos
    assert 'v3' in warnings_log[0] and 'point_gaussian.csv' in warnings_log[0]
    assert 'v1' not in warnings_log[0].split('excluded')[-1]
    assert ds.feat_dim == D

    info = info_by_name(ds)
    v1 = info['v1']
    assert v1['num_snippets'] == 16 and v1['fps'] == 30.0
    assert v1['duration'] == 10.0
    assert v1['snippet_seconds'] == pytest.approx(0.64)
    # sorted by snippet; snippet 5 holds one Run (0) and one Jump (1) point
    assert v1['point_snippets'].dtype == np.int64
    assert v1['point_snippets'].tolist() == [2, 5, 5, 8, 15]
    assert v1['point_labels'].tolist() == [0, 0, 1, 1, 1]
    assert v1['gt_segments'].dtype == np.float32
    np.testing.assert_allclose(v1['gt_segments'],
                               [[1.0, 2.0], [5.0, 6.5], [3.0, 4.2]])
    assert v1['gt_labels'].tolist() == [0, 1, 0]
    assert v1['gt_labels'].dtype == np.int64
    assert v1['video_label'].tolist() == [1.0, 1.0]
    assert info['v2']['video_label'].tolist() == [0.0, 1.0]
    assert info['v2']['point_snippets'].tolist() == [0]
    assert info['v2']['num_snippets'] == 10
    assert ds.get_cat_ids(0) == [0, 1]
    assert v1['feature_paths'] == [
        osp.join(str(tmp_path), 'features', 'train', 'v1.npy')]


def test_getitem_packs_sample(tmp_path):
    feats = make_root(tmp_path)
    ds = build(tmp_path, pipeline=PIPELINE)
    out = ds[0]
    assert set(out) == {'inputs', 'data_samples'}
    assert out['inputs'].dtype == torch.float32
    torch.testing.assert_close(out['inputs'], torch.from_numpy(feats['v1']))
    sample = out['data_samples']
    assert sample.metainfo['video_name'] == 'v1'
    assert sample.metainfo['num_snippets'] == 16
    assert sample.gt_points.snippets.tolist() == [2, 5, 5, 8, 15]
    assert sample.gt_points.labels.tolist() == [0, 0, 1, 1, 1]
    assert sample.gt_video_label.tolist() == [1.0, 1.0]
    assert sample.gt_instances.segments.shape == (3, 2)


def test_sorted_class_fallback_without_class_index(tmp_path):
    make_root(tmp_path, class_index=False)
    ds = build(tmp_path)
    assert ds.metainfo['classes'] == ('Jump', 'Run')  # sorted names
    v1 = info_by_name(ds)['v1']
    assert v1['point_labels'].tolist() == [1, 1, 0, 0, 0]
    assert v1['gt_labels'].tolist() == [1, 0, 1]


def test_sorted_fallback_includes_all_subsets(tmp_path):
    db = copy.deepcopy(BASE_DB)
    db['t1']['annotations'].append({'label': 'Archery', 'segment': [0, 1]})
    make_root(tmp_path, db=db, class_index=False)
    ds = build(tmp_path, require_points=False)
    assert ds.metainfo['classes'] == ('Archery', 'Jump', 'Run')
    assert len(ds) == 3  # v3 kept (no points) when points are not required
    v3 = info_by_name(ds)['v3']
    assert v3['point_snippets'].shape == (0, )
    assert v3['video_label'].tolist() == [0.0, 1.0, 0.0]


def test_metainfo_classes_override(tmp_path):
    make_root(tmp_path)
    ds = build(tmp_path, metainfo=dict(classes=['Run', 'Jump']))
    assert ds.metainfo['classes'] == ('Run', 'Jump')
    make_root(tmp_path, class_index=False)
    ds = build(tmp_path, metainfo=dict(classes=['Run', 'Jump']))
    assert info_by_name(ds)['v1']['gt_labels'].tolist() == [0, 1, 0]


def test_metainfo_classes_mismatch(tmp_path):
    make_root(tmp_path, class_index=False)
    with pytest.raises(DataError, match=r"gt_full\.json: class 'Jump' "
                       r'\(video v1\) is not in the class list from the '
                       'metainfo classes'):
        build(tmp_path, metainfo=dict(classes=['Run', 'Swim']))
    make_root(tmp_path)  # class_index order Run=0, Jump=1
    with pytest.raises(DataError, match=r"point_gaussian\.csv: row 1: class "
                       r"'Jump' has class_index 1 but index 0"):
        build(tmp_path, metainfo=dict(classes=['Jump', 'Run']))


def test_video_label_from_points_when_no_annotations(tmp_path):
    db = copy.deepcopy(BASE_DB)
    db['v2']['annotations'] = []
    db['v3']['annotations'] = []
    make_root(tmp_path, db=db)
    ds = build(tmp_path)
    v2 = info_by_name(ds)['v2']
    assert v2['gt_segments'].shape == (0, 2)
    assert v2['video_label'].tolist() == [0.0, 1.0]


def test_rgb_flow_layout_concatenated_rgb_first(tmp_path):
    feats = make_root(tmp_path, layout='rgb_flow', dim=6)
    ds = build(tmp_path, pipeline=PIPELINE, feat_dim=6)
    info = ds.get_data_info(0)
    root = osp.join(str(tmp_path), 'features', 'train')
    assert info['feature_paths'] == [osp.join(root, 'rgb', 'v1.npy'),
                                     osp.join(root, 'flow', 'v1.npy')]
    out = ds[0]
    torch.testing.assert_close(out['inputs'], torch.from_numpy(feats['v1']))


def test_blocked_videos_and_test_set(tmp_path):
    make_root(tmp_path)
    (tmp_path / 'split_test.txt').write_text('t1\nv2\n')
    np.save(tmp_path / 'features' / 'train' / 't1.npy',
            np.zeros((5, D), np.float32))
    ds = build(tmp_path, split_file='split_test.txt', require_points=False,
               blocked_videos=('v2', 'not_listed'))
    assert [ds.get_data_info(i)['video_name'] for i in range(len(ds))] == ['t1']
    t1 = ds.get_data_info(0)
    assert t1['point_snippets'].shape == (0, )
    assert t1['video_label'].tolist() == [1.0, 0.0]
    # test sets still get the points the CSV has
    ds = build(tmp_path, split_file='split_test.txt', require_points=False)
    assert info_by_name(ds)['v2']['point_snippets'].tolist() == [0]
    # no CSV at all
    ds = build(tmp_path, split_file='split_test.txt', require_points=False,
               point_file=None)
    assert info_by_name(ds)['v2']['point_snippets'].shape == (0, )


def test_fps_from_num_frames_and_missing_duration(tmp_path, warnings_log):
    db = copy.deepcopy(BASE_DB)
    del db['v2']['fps']
    db['v2']['num_frames'] = 160  # 160 / 6.4 = 25 fps
    make_root(tmp_path, db=db)
    del db['v1']['duration']  # duration -> T * 0.64 = 10.24 s
    (tmp_path / 'gt_full.json').write_text(json.dumps({'database': db}))
    info = info_by_name(build(tmp_path))
    assert info['v2']['fps'] == pytest.approx(25.0)
    assert info['v1']['duration'] == pytest.approx(16 * 0.64)
    # the fallback is said, with the video
    assert any('1 video(s) have no "duration"' in m and m.endswith(': v1')
               for m in warnings_log), warnings_log
    db['v2'].pop('duration')
    (tmp_path / 'gt_full.json').write_text(json.dumps({'database': db}))
    with pytest.raises(DataError, match=r"gt_full\.json: video 'v2': no "
                       r'"fps", and fps cannot be computed'):
        build(tmp_path)


def test_absolute_paths(tmp_path):
    make_root(tmp_path / 'd')
    ds = PointTALDataset(
        data_root='',
        ann_file=str(tmp_path / 'd' / 'gt_full.json'),
        split_file=str(tmp_path / 'd' / 'split_train.txt'),
        point_file=str(tmp_path / 'd' / 'point_labels' / 'point_gaussian.csv'),
        feature_dir=str(tmp_path / 'd' / 'features' / 'train'))
    assert len(ds) == 2


# ------------------------------------------------------------------ errors
def test_missing_feature_file(tmp_path):
    make_root(tmp_path)
    (tmp_path / 'features' / 'train' / 'v2.npy').unlink()
    with pytest.raises(MissingFileError, match=r'v2\.npy: feature file '
                       r'\(video v2\) not found; expected layout'):
        build(tmp_path)
    with pytest.raises(MissingFileError, match='feature folder not found'):
        build(tmp_path, feature_dir='features/nowhere')


def test_missing_flow_file(tmp_path):
    make_root(tmp_path, layout='rgb_flow')
    (tmp_path / 'features' / 'train' / 'flow' / 'v1.npy').unlink()
    with pytest.raises(MissingFileError, match=r'flow/v1\.npy: feature file'):
        build(tmp_path)


def test_rgb_flow_length_mismatch(tmp_path):
    make_root(tmp_path, layout='rgb_flow')
    np.save(tmp_path / 'features' / 'train' / 'flow' / 'v2.npy',
            np.zeros((9, D // 2), np.float32))
    with pytest.raises(DataError, match=r'rgb/v2\.npy: video v2: rgb and flow '
                       r'features have different lengths \(10 vs 9'):
        build(tmp_path)


def test_truncated_and_non_float_features(tmp_path):
    make_root(tmp_path)
    path = tmp_path / 'features' / 'train' / 'v2.npy'
    raw = path.read_bytes()
    path.write_bytes(raw[:len(raw) // 2])
    with pytest.raises(DataError, match=r'v2\.npy: unreadable or truncated '
                       r'\.npy feature file \(video v2\)'):
        build(tmp_path)
    np.save(path, np.zeros((10, D), np.int32))
    with pytest.raises(DataError, match=r'v2\.npy: feature array \(video v2\) '
                       'must have a float dtype, got int32'):
        build(tmp_path)


def test_wrong_feature_dim(tmp_path):
    make_root(tmp_path)
    with pytest.raises(DataError, match=r'v1\.npy: wrong feature dimension '
                       r'for video v1: got 4, expected feat_dim=8'):
        build(tmp_path, feat_dim=8)
    np.save(tmp_path / 'features' / 'train' / 'v2.npy',
            np.zeros((10, 5), np.float32))
    with pytest.raises(DataError, match=r'v2\.npy: wrong feature dimension '
                       r'for video v2: got 5, expected 4, as in .*v1\.npy'):
        build(tmp_path)


def test_nan_features_fail_when_loaded(tmp_path):
    make_root(tmp_path)
    arr = np.ones((10, D), np.float32)
    arr[3, 1] = np.nan
    arr[7, 0] = np.inf
    np.save(tmp_path / 'features' / 'train' / 'v2.npy', arr)
    ds = build(tmp_path, pipeline=PIPELINE)  # build: header check only
    ds[0]
    with pytest.raises(DataError, match=r'v2\.npy: features contain NaN or '
                       r'inf; first bad snippet 3 \(2 bad snippet'):
        ds[1]


def test_split_errors(tmp_path):
    make_root(tmp_path, split=('v1', 'v2', 'ghost'))
    with pytest.raises(DataError, match=r'split_train\.txt: 1 video\(s\) of '
                       r'the split are not in .*gt_full\.json: ghost'):
        build(tmp_path)
    (tmp_path / 'split_train.txt').write_text('\n')
    with pytest.raises(DataError, match=r'split_train\.txt: split file is '
                       'empty'):
        build(tmp_path)
    with pytest.raises(MissingFileError, match=r'split_nope\.txt: split file'):
        build(tmp_path, split_file='split_nope.txt')


def test_json_and_csv_errors(tmp_path):
    make_root(tmp_path)
    csv_path = tmp_path / 'point_labels' / 'point_gaussian.csv'
    csv_path.write_text('')
    with pytest.raises(DataError, match=r'point_gaussian\.csv: point label '
                       'CSV is empty'):
        build(tmp_path)
    csv_path.write_text('class,video,frame\nRun,v1,3\n')
    with pytest.raises(DataError, match=r'point_gaussian\.csv: point label '
                       r'CSV lacks column\(s\) video_id, point'):
        build(tmp_path)
    make_root(tmp_path)
    (tmp_path / 'gt_full.json').write_text('{"database": {"v1": ')
    with pytest.raises(DataError, match=r'gt_full\.json: malformed JSON'):
        build(tmp_path)
    (tmp_path / 'gt_full.json').unlink()
    with pytest.raises(MissingFileError, match=r'gt_full\.json: annotation '
                       'file not found'):
        build(tmp_path)


def test_point_of_unknown_class(tmp_path):
    rows = BASE_ROWS + [('Swim', 2, 'v2', 10)]
    make_root(tmp_path, rows=rows, class_index=False)
    with pytest.raises(DataError, match=r"point_gaussian\.csv: row 7 \(video "
                       r"v2\): point of unknown class 'Swim'"):
        build(tmp_path, metainfo=dict(classes=['Run', 'Jump']))
    # without a given class list: a CSV class absent from the annotations
    with pytest.raises(DataError, match=r"point_gaussian\.csv: row 7 \(video "
                       r"v2\): class 'Swim' has points but no annotation"):
        build(tmp_path)


def test_annotation_class_without_points(tmp_path):
    db = copy.deepcopy(BASE_DB)
    db['t1']['annotations'].append({'label': 'Archery', 'segment': [0, 1]})
    make_root(tmp_path, db=db, class_index=False)
    with pytest.raises(DataError, match=r"point_gaussian\.csv: class\(es\) "
                       r'Archery have no point in the training videos'):
        build(tmp_path)
    # with class_index, the annotation class is missing from the CSV list
    make_root(tmp_path, db=db, class_index=True)
    with pytest.raises(DataError, match=r"gt_full\.json: class 'Archery' "
                       r'\(video t1\) is not in the class list from the '
                       'class_index column'):
        build(tmp_path)


def test_point_outside_video(tmp_path):
    rows = BASE_ROWS[:2] + [('Run', 0, 'v2', -3)] + BASE_ROWS[2:]
    make_root(tmp_path, rows=rows)
    with pytest.raises(DataError, match=r'point_gaussian\.csv: row 3 \(video '
                       r'v2\): point frame -3 is negative'):
        build(tmp_path)
    # v2: 6.4 s, 25 fps -> allowed up to 7.04 s = frame 176
    rows = BASE_ROWS + [('Jump', 1, 'v2', 176)]
    make_root(tmp_path, rows=rows)
    assert info_by_name(build(tmp_path))['v2']['point_snippets'].tolist() == [
        0, 9]  # clamped to T - 1
    rows = BASE_ROWS + [('Jump', 1, 'v2', 177)]
    make_root(tmp_path, rows=rows)
    with pytest.raises(DataError, match=r'row 7 \(video v2\): point frame 177 '
                       r'\(7\.08 s at 25 fps\) lies outside the video'):
        build(tmp_path)


def test_no_video_with_points(tmp_path):
    make_root(tmp_path, split=('v3', ))
    with pytest.raises(DataError, match=r'no video of .*split_train\.txt has '
                       'a point label'):
        build(tmp_path)


# ------------------------------------------------------- real annotations
def _real_root(shared_data, name):
    root = osp.join(shared_data, name)
    if not osp.isfile(osp.join(root, 'gt_full.json')):
        pytest.skip(f'{root}/gt_full.json not found')
    return root


def _write_features(root, split_file, out_dir, dim=8):
    db = json.load(open(osp.join(root, 'gt_full.json')))['database']
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    videos = open(osp.join(root, split_file)).read().split()
    for v in videos:
        t = math.ceil(db[v]['duration'] * 25 / 16)
        np.save(out_dir / f'{v}.npy',
                rng.random((t, dim), dtype=np.float32))
    return videos


@pytest.mark.parametrize('name,num_classes,num_train,num_test', [
    ('THUMOS14', 20, 200, 210),
    ('GTEA', 7, 21, 7),
    ('BEOID', 34, 46, 12),
])
def test_real_annotations(shared_data, tmp_path, name, num_classes,
                          num_train, num_test):
    root = _real_root(shared_data, name)
    _write_features(root, 'split_train.txt', tmp_path / 'train')
    _write_features(root, 'split_test.txt', tmp_path / 'test')
    train = PointTALDataset(data_root=root, feature_dir=str(tmp_path / 'train'),
                            pipeline=PIPELINE)
    classes = train.metainfo['classes']
    assert len(classes) == num_classes and len(train) == num_train
    assert train.feat_dim == 8

    blocked = ('video_test_0000270', 'video_test_0001292',
               'video_test_0001496')
    test = PointTALDataset(
        data_root=root, split_file='split_test.txt',
        feature_dir=str(tmp_path / 'test'), require_points=False,
        blocked_videos=blocked, pipeline=PIPELINE)
    assert test.metainfo['classes'] == classes and len(test) == num_test

    n_points, shared_class_snippets = 0, 0
    for i in range(len(train)):
        info = train.get_data_info(i)
        s = info['point_snippets']
        assert np.all(np.diff(s) >= 0) and s.max() < info['num_snippets']
        assert info['video_label'].sum() >= 1
        n_points += len(s)
        per_snippet = {}
        for t, c in zip(s.tolist(), info['point_labels'].tolist()):
            per_snippet.setdefault(t, set()).add(c)
        shared_class_snippets += sum(len(c) > 1 for c in per_snippet.values())
    csv_rows = sum(1 for _ in open(
        osp.join(root, 'point_labels', 'point_gaussian.csv'))) - 1
    assert n_points == csv_rows  # every CSV point is kept, none dropped
    if name == 'THUMOS14':
        assert classes[0] == 'BaseballPitch' and n_points == 3003
        # THUMOS14: 143 snippets hold points of two or more classes
        assert shared_class_snippets == 143
    sample = train[0]
    assert sample['inputs'].shape == (
        sample['data_samples'].metainfo['num_snippets'], 8)
    assert sample['data_samples'].gt_video_label.shape == (num_classes, )
