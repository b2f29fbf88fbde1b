"""Tests of the synthetic dataset generator (hrpro_plugin/datasets/synthetic.py
and tools/make_synthetic_dataset.py). Pure numpy; the module is loaded by
path so that these tests neither need nor import torch / OpenMMLab."""
import ast
import csv
import filecmp
import json
import math
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

from _helpers import load_script

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SYNTHETIC_PY = osp.join(REPO, 'hrpro_plugin', 'datasets', 'synthetic.py')
TOOL = osp.join(REPO, 'tools', 'make_synthetic_dataset.py')
CSV_COLUMNS = [
    'class', 'class_index', 'start_frame', 'stop_frame', 'video_id', 'point'
]


syn = load_script('hrpro_plugin/datasets/synthetic.py',
                  '_test_hrpro_synthetic')

SMALL = dict(num_classes=3, num_train=6, num_test=3, feat_dim=16)


@pytest.fixture(scope='module')
def default_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic_default'))
    summary = syn.generate_dataset(root, log=None)
    return root, summary


def _read_csv(path):
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def _files(root):
    out = []
    for dirpath, _, names in os.walk(root):
        for n in names:
            out.append(osp.relpath(osp.join(dirpath, n), root))
    return sorted(out)


def _lines(path):
    with open(path) as f:
        return [ln.strip() for ln in f if ln.strip()]


# ---------------------------------------------------------------------------
# module hygiene and small helpers
# ---------------------------------------------------------------------------
def test_module_imports_numpy_and_stdlib_only():
    tree = ast.parse(open(SYNTHETIC_PY).read())
    mods = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods |= {a.name.split('.')[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, 'no relative imports (loaded by path)'
            mods.add(node.module.split('.')[0])
    assert mods & {'torch', 'mmengine', 'mmaction', 'mmcv'} == set()
    assert 'numpy' in mods
    src = open(SYNTHETIC_PY).read()
    assert 'register_module' not in src and 'Registry' not in src


def test_num_snippets_exact_multiples():
    assert syn.num_snippets(6.4) == 10  # 6.4 * 25 / 16 = 10 exactly
    assert syn.num_snippets(6.41) == 11
    assert syn.num_snippets(0.01) == 1
    assert syn.num_snippets(33.83) == math.ceil(33.83 * 25 / 16) == 53


def test_subset_mapping():
    assert syn.subset_to_split('Validation') == 'train'
    assert syn.subset_to_split('training') == 'train'
    assert syn.subset_to_split('Test') == 'test'
    assert syn.subset_to_split('validation') == 'test'
    with pytest.raises(ValueError):
        syn.subset_to_split('holdout')


def test_sample_points_inside_and_centred():
    rng = np.random.default_rng(0)
    s = rng.uniform(0, 1000, 5000)
    e = s + rng.uniform(0.5, 300, 5000)
    p = syn.sample_points(rng, s, e)
    assert p.dtype == np.int64
    ok = np.ceil(s) <= np.floor(e)  # some integer frame lies inside
    assert ok.mean() > 0.99
    assert np.all(p[ok] >= np.ceil(s[ok])) and np.all(p[ok] <= np.floor(e[ok]))
    assert np.all(np.abs(p[~ok] - (s[~ok] + e[~ok]) / 2) <= 0.5)
    rel = (p - s) / (e - s)
    long = (e - s) > 60
    assert abs(rel[long].mean() - 0.5) < 0.02
    assert 0.12 < rel[long].std() < 0.19  # std = length / 6, clipped
    # an instance shorter than a frame with no integer inside: nearest frame
    assert syn.sample_points(rng, np.array([10.2]), np.array([10.6]))[0] == 10


# ---------------------------------------------------------------------------
# the feature model
# ---------------------------------------------------------------------------
def _bank(C=4, D=64, seed=0):
    return syn.make_feature_bank(np.random.default_rng(seed), C, D)


def test_feature_bank_geometry():
    b = _bank(C=5, D=64)
    cm, ctx = b['class_means'], b['context_means']
    np.testing.assert_allclose(np.linalg.norm(cm, axis=1), 1, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(ctx, axis=1), 1, atol=1e-9)
    m = syn.FeatureModel()
    gram = cm @ cm.T
    off = gram[~np.eye(5, dtype=bool)]
    np.testing.assert_allclose(off, m.actionness_share**2, atol=1e-9)
    np.testing.assert_allclose((cm * ctx).sum(1),
                               m.context_class_share,
                               atol=1e-9)
    np.testing.assert_allclose(b['background_dirs'] @ cm.T, 0, atol=1e-9)


def test_synthesize_features_shape_dtype_determinism():
    b = _bank()
    args = (50, np.array([[5.0, 15.0], [30.0, 42.5]]), [1, 3],
            b['class_means'], b['context_means'], b['background_dirs'])
    f1 = syn.synthesize_features(np.random.default_rng(7), *args)
    f2 = syn.synthesize_features(np.random.default_rng(7), *args)
    f3 = syn.synthesize_features(np.random.default_rng(8), *args)
    assert f1.shape == (50, 64) and f1.dtype == np.float32
    assert np.isfinite(f1).all()
    assert np.array_equal(f1, f2) and not np.array_equal(f1, f3)
    # no instances: background only, still valid
    f0 = syn.synthesize_features(np.random.default_rng(0), 20, np.zeros(
        (0, 2)), [], b['class_means'])
    assert f0.shape == (20, 64) and np.isfinite(f0).all()
    with pytest.raises(ValueError):
        syn.synthesize_features(np.random.default_rng(0), 20, [[1, 2]], [9],
                                b['class_means'])


def test_soft_boundaries_and_uneven_strength():
    b = _bank()
    T, seg = 80, np.array([[20.0, 60.0]])
    _, parts = syn.synthesize_features(np.random.default_rng(0),
                                       T,
                                       seg, [2],
                                       b['class_means'],
                                       b['context_means'],
                                       b['background_dirs'],
                                       return_parts=True)
    env = parts['envelope'][0]
    # ramps over ~1-2 snippets: the edge snippets are neither 0 nor 1
    assert 0.2 < env[19] < 0.5 < env[20] < 0.8
    assert env[17] < 0.01 and env[23] > 0.99 and env[62] < 0.01
    assert 0.2 < env[60] < 0.5 < env[59] < 0.8
    # signal is strongest near the centre and far weaker at the ends
    proj = parts['action'] @ b['class_means'][2]
    assert proj[38:42].mean() > 1.5 * proj[[20, 21, 58, 59]].mean()
    assert np.abs(proj[:15]).max() < 0.05 and np.abs(proj[66:]).max() < 0.05
    # weak sub-spans: across many instances, the weakest interior snippet is
    # typically well below the strongest one
    rng = np.random.default_rng(1)
    ratios = []
    for _ in range(200):
        _, p = syn.synthesize_features(rng,
                                       T,
                                       seg, [0],
                                       b['class_means'],
                                       return_parts=True)
        s = p['strength'][0, 24:56]
        ratios.append(s.min() / s.max())
    assert np.median(ratios) < 0.35


def test_context_and_distractors_live_in_background():
    b = _bank(C=3, D=64)
    T, seg = 400, np.array([[100.0, 130.0], [250.0, 260.0]])
    rng = np.random.default_rng(3)
    feats, parts = syn.synthesize_features(rng,
                                           T,
                                           seg, [0, 0],
                                           b['class_means'],
                                           b['context_means'],
                                           b['background_dirs'],
                                           return_parts=True)
    ctx_norm = np.linalg.norm(parts['context'], axis=1)
    assert ctx_norm[98] > 0.2 and ctx_norm[132] > 0.2  # next to an instance
    assert ctx_norm[115] < 0.05 and ctx_norm[190] < 0.01  # inside / far away
    dist_norm = np.linalg.norm(parts['distractor'], axis=1)
    assert dist_norm[101:129].max() < 1e-6  # not inside actions
    assert dist_norm.max() > 0.2  # bursts exist
    # scene: one vector for the whole video, leaning to the video's class
    scene = parts['scene']
    assert np.allclose(scene, scene[0])
    assert scene[0] @ b['context_means'][
        0] > scene[0] @ b['context_means'][1] + 0.1


# ---------------------------------------------------------------------------
# files written
# ---------------------------------------------------------------------------
def test_determinism(tmp_path):
    a, b, c = (str(tmp_path / n) for n in 'abc')
    syn.generate_dataset(a, seed=3, log=None, **SMALL)
    syn.generate_dataset(b, seed=3, log=None, **SMALL)
    syn.generate_dataset(c, seed=4, log=None, **SMALL)
    files = _files(a)
    assert files == _files(b)
    _, mismatch, errors = filecmp.cmpfiles(a, b, files, shallow=False)
    assert mismatch == [] and errors == []
    assert files != _files(c) or filecmp.cmpfiles(a, c, files,
                                                  shallow=False)[1]
    for f in ('gt_full.json', 'point_labels/point_gaussian.csv'):
        assert open(osp.join(a, f)).read() != open(osp.join(c, f)).read()


def test_layout_complete_and_parseable(default_root):
    root, summary = default_root
    gt = json.load(open(osp.join(root, 'gt_full.json')))
    assert {'version', 'database'} <= set(gt)
    db = gt['database']
    train = _lines(osp.join(root, 'split_train.txt'))
    test = _lines(osp.join(root, 'split_test.txt'))
    assert len(train) == 60 and len(test) == 30
    assert not set(train) & set(test)
    assert set(train) | set(test) == set(db)
    classes = summary['classes']
    assert classes == [f'class_{i:02d}' for i in range(5)]
    for split, names in (('train', train), ('test', test)):
        assert sorted(os.listdir(osp.join(root, 'features', split))) == \
            sorted(f'{n}.npy' for n in names)
        for n in names:
            v = db[n]
            assert v['subset'] == ('Validation'
                                   if split == 'train' else 'Test')
            assert v['fps'] == 30.0
            assert v['annotations']
            x = np.load(osp.join(root, 'features', split, f'{n}.npy'))
            assert x.dtype == np.float32 and x.ndim == 2
            assert x.shape == (math.ceil(v['duration'] * 25 / 16), 64)
            assert np.isfinite(x).all()
            for a in v['annotations']:
                assert set(a) == {
                    'label', 'segment', 'segment(frames)', 'label_id'
                }
                s, e = a['segment']
                assert 0 <= s < e <= v['duration']
                assert a['segment(frames)'] == pytest.approx([s * 30, e * 30])
                assert classes[a['label_id']] == a['label']
    # every class has training and test instances
    for names in (train, test):
        seen = {a['label'] for n in names for a in db[n]['annotations']}
        assert seen == set(classes)
    assert not osp.exists(osp.join(root, 'Ambiguous_test.txt'))


def test_points_inside_instances_of_train_videos(default_root):
    root, summary = default_root
    db = json.load(open(osp.join(root, 'gt_full.json')))['database']
    train = set(_lines(osp.join(root, 'split_train.txt')))
    cols, rows = _read_csv(osp.join(root, 'point_labels',
                                    'point_gaussian.csv'))
    assert cols == CSV_COLUMNS
    n_train_inst = sum(len(db[v]['annotations']) for v in train)
    assert len(rows) == n_train_inst == summary['num_points']
    assert {r['video_id'] for r in rows} == train
    assert [r['video_id'] for r in rows] == sorted(r['video_id'] for r in rows)
    for r in rows:
        v = db[r['video_id']]
        anns = [
            a for a in v['annotations']
            if a['label'] == r['class'] and a['segment(frames)'] ==
            [float(r['start_frame']),
             float(r['stop_frame'])]
        ]
        assert len(anns) == 1, r
        point = int(r['point'])
        s, e = anns[0]['segment']
        assert float(r['start_frame']) <= point <= float(r['stop_frame'])
        assert s <= point / v['fps'] <= e
        assert int(r['class_index']) == anns[0]['label_id']


def test_statistics_match_the_documented_defaults(default_root):
    _, s = default_root
    assert s['num_train'] == 60 and s['num_test'] == 30
    assert 110 < s['mean_snippets'] < 190  # documented mean ~150
    assert 3.0 < s['mean_instance_seconds'] < 5.0  # documented mean ~4 s
    assert 0.22 < s['action_coverage'] < 0.40  # documented ~30%
    assert 4 < s['mean_instances_per_video'] < 12


def _snippet_sets(root, split, classes):
    db = json.load(open(osp.join(root, 'gt_full.json')))['database']
    X, Y = [], []
    for n in _lines(osp.join(root, f'split_{split}.txt')):
        x = np.load(osp.join(root, 'features', split, f'{n}.npy'))
        centre = (np.arange(len(x)) + 0.5) * 16 / 25
        y = np.full(len(x), -1)
        count = np.zeros(len(x))
        for a in db[n]['annotations']:
            inside = (centre >= a['segment'][0]) & (centre < a['segment'][1])
            y[inside] = classes.index(a['label'])
            count += inside
        y[count > 1] = -2
        X.append(x)
        Y.append(y)
    return np.concatenate(X).astype(np.float64), np.concatenate(Y)


def test_learnable_but_not_trivial(default_root):
    """Nearest class mean (means from train action snippets) on test action
    snippets: measured 0.78-0.81 for seeds 0-5 (chance 0.2). Action vs
    background ranked along the train mean difference: AUC 0.80-0.83 for
    seeds 0-3. The bands leave margin on both sides."""
    root, summary = default_root
    classes = summary['classes']
    Xtr, Ytr = _snippet_sets(root, 'train', classes)
    Xte, Yte = _snippet_sets(root, 'test', classes)
    means = np.stack([Xtr[Ytr == c].mean(0) for c in range(len(classes))])
    act = Yte >= 0
    pred = ((Xte[act, None] - means[None])**2).sum(-1).argmin(1)
    acc = (pred == Yte[act]).mean()
    chance = 1 / len(classes)
    assert 0.6 < acc < 0.93, acc
    assert acc > 1.5 * chance
    # action vs background along the mean difference: informative, not clean
    w = Xtr[Ytr >= 0].mean(0) - Xtr[Ytr == -1].mean(0)
    keep = Yte >= -1
    score, pos = Xte[keep] @ w, Yte[keep] >= 0
    rank = np.empty(len(score))
    rank[np.argsort(score)] = np.arange(1, len(score) + 1)
    n_pos, n_neg = pos.sum(), (~pos).sum()
    auc = (rank[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    assert 0.65 < auc < 0.95, auc


# ---------------------------------------------------------------------------
# --annotations mode
# ---------------------------------------------------------------------------
def test_annotations_mode_keeps_real_videos(shared_data, tmp_path):
    src = osp.join(shared_data, 'GTEA')
    out = str(tmp_path / 'gtea')
    s = syn.generate_dataset(out,
                             feat_dim=24,
                             seed=1,
                             log=None,
                             annotations=osp.join(src, 'gt_full.json'))
    real = json.load(open(osp.join(src, 'gt_full.json')))['database']
    assert filecmp.cmp(osp.join(src, 'gt_full.json'),
                       osp.join(out, 'gt_full.json'),
                       shallow=False)
    for f in ('split_train.txt', 'split_test.txt'):
        assert _lines(osp.join(src, f)) == _lines(osp.join(out, f))
    train = _lines(osp.join(out, 'split_train.txt'))
    test = _lines(osp.join(out, 'split_test.txt'))
    assert (len(train), len(test)) == (21, 7)
    assert s['num_classes'] == 7
    assert s['classes'] == sorted(
        {a['label']
         for v in real.values()
         for a in v['annotations']})
    for split, names in (('train', train), ('test', test)):
        for n in names:
            x = np.load(osp.join(out, 'features', split, f'{n}.npy'))
            assert x.shape == (math.ceil(real[n]['duration'] * 25 / 16), 24)
            assert x.dtype == np.float32 and np.isfinite(x).all()
    _, rows = _read_csv(osp.join(out, 'point_labels', 'point_gaussian.csv'))
    assert {r['video_id'] for r in rows} == set(train)
    assert len(rows) == sum(a['segment'][0] < real[v]['duration']
                            for v in train for a in real[v]['annotations'])
    for r in rows:
        v = real[r['video_id']]
        p = int(r['point'])
        assert any(a['label'] == r['class'] and a['segment'][0] * v['fps'] -
                   1e-6 <= p <= a['segment'][1] * v['fps'] + 1e-6
                   for a in v['annotations']), r
        assert s['classes'][int(r['class_index'])] == r['class']


def test_annotations_mode_thumos14_points_match_real_csv(
        shared_data, tmp_path):
    """Known answer: the real THUMOS14 CSV has one point for each training
    instance that starts inside its video (3,003 of 3,007); ours covers
    exactly the same (video, class, start, stop) rows."""
    src = osp.join(shared_data, 'THUMOS14')
    out = str(tmp_path / 'thumos')
    s = syn.generate_dataset(out,
                             feat_dim=2,
                             log=None,
                             annotations=osp.join(src, 'gt_full.json'))
    assert (s['num_train'], s['num_points']) == (200, 3003)
    assert s['train_instances_without_point'] == 4
    assert filecmp.cmp(osp.join(src, 'Ambiguous_test.txt'),
                       osp.join(out, 'Ambiguous_test.txt'),
                       shallow=False)
    assert len(_lines(osp.join(out, 'split_test.txt'))) == 210
    cols, ours = _read_csv(osp.join(out, 'point_labels', 'point_gaussian.csv'))
    _, real = _read_csv(osp.join(src, 'point_labels', 'point_gaussian.csv'))
    assert cols == CSV_COLUMNS

    def keyed(rows):
        return sorted((r['video_id'], r['class'], int(r['class_index']),
                       int(r['start_frame']), int(r['stop_frame']))
                      for r in rows)

    # the real CSV writes frame 0 as 1 and is off by one frame in 5 rows
    for a, b in zip(keyed(ours), keyed(real), strict=True):
        assert a[:3] == b[:3]
        assert abs(a[3] - b[3]) <= 1 and abs(a[4] - b[4]) <= 1, (a, b)
    for r in ours:
        assert int(r['start_frame']) <= int(r['point']) <= int(r['stop_frame'])
    # the copied annotations are real, the features are not: the root says so
    marker = json.load(open(osp.join(out, syn.SYNTHETIC_MARKER)))
    assert marker['mode'] == 'annotations' and marker['feat_dim'] == 2
    assert marker['annotations'] == osp.join(src, 'gt_full.json')
    # every video of the file has features, in the folder of its split
    db = json.load(open(osp.join(src, 'gt_full.json')))['database']
    n_feats = sum(
        len(os.listdir(osp.join(out, 'features', sp)))
        for sp in ('train', 'test'))
    assert n_feats == len(db) == 412


# ---------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------
def test_cli(tmp_path):
    out = str(tmp_path / 'cli')
    res = subprocess.run([
        sys.executable, TOOL, '--out', out, '--num-classes', '3',
        '--num-train', '8', '--num-test', '4', '--feat-dim', '8', '--seed', '2'
    ],
                         capture_output=True,
                         text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert '12/12 videos (100%)' in res.stdout
    assert osp.abspath(out) in res.stdout
    assert len(os.listdir(osp.join(out, 'features', 'train'))) == 8
    assert len(os.listdir(osp.join(out, 'features', 'test'))) == 4
    x = np.load(
        osp.join(out, 'features', 'test',
                 os.listdir(osp.join(out, 'features', 'test'))[0]))
    assert x.shape[1] == 8 and x.dtype == np.float32
    # the same call from Python gives the same bytes
    ref = str(tmp_path / 'ref')
    syn.generate_dataset(ref,
                         num_classes=3,
                         num_train=8,
                         num_test=4,
                         feat_dim=8,
                         seed=2,
                         log=None)
    files = _files(ref)
    assert files == _files(out)
    assert filecmp.cmpfiles(ref, out, files, shallow=False)[1] == []


def test_cli_does_not_import_torch_or_openmmlab(tmp_path):
    code = ('import runpy, sys; sys.argv = ["x", "--out", sys.argv[1], '
            '"--num-classes", "2", "--num-train", "2", "--num-test", "1", '
            '"--feat-dim", "4", "--quiet"]; '
            f'runpy.run_path({TOOL!r}, run_name="__main__"); '
            'bad = [m for m in ("torch", "mmengine", "mmaction") '
            'if m in sys.modules]; assert not bad, bad')
    res = subprocess.run([sys.executable, '-c', code,
                          str(tmp_path / 'q')],
                         capture_output=True,
                         text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ''


def test_rejects_too_few_train_videos(tmp_path):
    with pytest.raises(ValueError, match='num_train'):
        syn.generate_dataset(str(tmp_path / 'x'),
                             num_classes=5,
                             num_train=3,
                             log=None)


def test_fully_synthetic_root_is_marked(default_root):
    root, _ = default_root
    marker = json.load(open(osp.join(root, syn.SYNTHETIC_MARKER)))
    assert marker['mode'] == 'synthetic' and marker['seed'] == 0
    assert marker['generator'] == 'hrpro_plugin.datasets.synthetic'
