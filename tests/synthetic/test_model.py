"""The synthetic generator's parts (hrpro_plugin/synthetic): its imports,
snippet counts, subsets, points and the feature model. Pure numpy; the
package is loaded by path so that these tests neither need nor import torch
/ OpenMMLab."""
import ast
import glob
import math
import os.path as osp

import numpy as np
import pytest

from _helpers import REPO_ROOT, load_synthetic

syn = load_synthetic()

#: the packages the generator loads by path: numpy and the standard library
#: only, and relative imports only inside the package itself
BY_PATH_PACKAGES = ('hrpro_plugin/synthetic', 'hrpro_plugin/datasets/parsers')


# ---------------------------------------------------------------------------
# package hygiene and small helpers
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('package', BY_PATH_PACKAGES)
def test_package_imports_numpy_and_stdlib_only(package):
    files = sorted(glob.glob(osp.join(REPO_ROOT, package, '*.py')))
    assert osp.join(REPO_ROOT, package, '__init__.py') in files
    mods = set()
    for path in files:
        src = open(path).read()
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Import):
                mods |= {a.name.split('.')[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    assert node.level == 1, (
                        f'{path}: relative import out of the package '
                        '(it is loaded by path)')
                else:
                    mods.add(node.module.split('.')[0])
        assert 'register_module' not in src and 'Registry' not in src, path
    assert mods & {'torch', 'mmengine', 'mmaction', 'mmcv',
                   'hrpro_plugin'} == set()
    assert 'numpy' in mods


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
