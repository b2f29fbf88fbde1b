"""LoadSnippetFeatures and PackPointTALInputs."""
import numpy as np
import pytest
import torch
from mmaction.registry import TRANSFORMS
from mmaction.structures import ActionDataSample
from mmengine.structures import InstanceData

import hrpro_plugin.datasets.transforms.loading as loading_module
from hrpro_plugin.datasets import (DataError, LoadSnippetFeatures,
                                   MissingFileError, PackPointTALInputs)


def save(path, arr):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, arr)
    return str(path)


@pytest.fixture
def read_counter(monkeypatch):
    calls = []
    real = loading_module._read_npy

    def counting(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(loading_module, '_read_npy', counting)
    return calls


def test_registered():
    assert isinstance(TRANSFORMS.build(dict(type='LoadSnippetFeatures')),
                      LoadSnippetFeatures)
    assert isinstance(TRANSFORMS.build(dict(type='PackPointTALInputs')),
                      PackPointTALInputs)


def test_load_single_file_as_float32(tmp_path):
    arr = np.arange(12, dtype=np.float64).reshape(3, 4)
    p = save(tmp_path / 'v.npy', arr)
    out = LoadSnippetFeatures()(dict(feature_paths=[p], num_snippets=3,
                                     feat_dim=4, video_name='v'))
    assert out['features'].dtype == np.float32
    np.testing.assert_array_equal(out['features'], arr.astype(np.float32))


def test_load_rgb_flow_concatenated_rgb_first(tmp_path):
    rgb = np.full((5, 3), 1.0, np.float32)
    flow = np.full((5, 2), 2.0, np.float32)
    paths = [save(tmp_path / 'rgb' / 'v.npy', rgb),
             save(tmp_path / 'flow' / 'v.npy', flow)]
    out = LoadSnippetFeatures()(dict(feature_paths=paths, num_snippets=5))
    assert out['features'].shape == (5, 5)
    assert out['features'][:, :3].tolist() == rgb.tolist()
    assert out['features'][:, 3:].tolist() == flow.tolist()


def test_cache_reads_each_file_once(tmp_path, read_counter):
    p = save(tmp_path / 'v.npy', np.ones((3, 2), np.float32))
    q = save(tmp_path / 'w.npy', np.ones((4, 2), np.float32))
    load = LoadSnippetFeatures()
    for _ in range(3):
        load(dict(feature_paths=[p], num_snippets=3))
        load(dict(feature_paths=[q], num_snippets=4))
    assert read_counter == [p, q]
    # the cached array is protected against in-place changes
    out = load(dict(feature_paths=[p], num_snippets=3))
    with pytest.raises(ValueError):
        out['features'][0, 0] = 5.0

    read_counter.clear()
    no_cache = LoadSnippetFeatures(cache=False)
    for _ in range(3):
        no_cache(dict(feature_paths=[p], num_snippets=3))
    assert read_counter == [p, p, p]


def test_load_errors(tmp_path):
    load = LoadSnippetFeatures(cache=False)
    with pytest.raises(MissingFileError, match=r'gone\.npy: feature file not '
                       'found'):
        load(dict(feature_paths=[str(tmp_path / 'gone.npy')]))
    bad = np.zeros((6, 2), np.float32)
    bad[4, 1] = -np.inf
    p = save(tmp_path / 'bad.npy', bad)
    with pytest.raises(DataError, match=r'bad\.npy: features contain NaN or '
                       r'inf; first bad snippet 4'):
        load(dict(feature_paths=[p]))
    p = save(tmp_path / 'ok.npy', np.zeros((6, 2), np.float32))
    with pytest.raises(DataError, match=r'ok\.npy: video v: features have T=6 '
                       'snippets, the dataset recorded 7'):
        load(dict(feature_paths=[p], num_snippets=7, video_name='v'))
    with pytest.raises(DataError, match=r'ok\.npy: video v: wrong feature '
                       'dimension: got 2, expected 3'):
        load(dict(feature_paths=[p], feat_dim=3, video_name='v'))
    q = save(tmp_path / 'short.npy', np.zeros((5, 2), np.float32))
    with pytest.raises(DataError, match=r'rgb and flow features have '
                       r'different lengths: .*ok\.npy has T=6, .*short\.npy '
                       'has T=5'):
        load(dict(feature_paths=[p, q]))
    i = save(tmp_path / 'int.npy', np.zeros((6, 2), np.int16))
    with pytest.raises(DataError, match=r'int\.npy: feature array must have a '
                       'float dtype, got int16'):
        load(dict(feature_paths=[i]))
    t = tmp_path / 'trunc.npy'
    t.write_bytes(open(p, 'rb').read()[:-8])
    with pytest.raises(DataError, match=r'trunc\.npy: unreadable or '
                       'truncated'):
        load(dict(feature_paths=[str(t)]))


def _results(**over):
    res = dict(
        video_name='v', duration=3.0, fps=30.0, num_snippets=5,
        snippet_seconds=0.64,
        features=np.arange(10, dtype=np.float32).reshape(5, 2),
        gt_segments=np.array([[0.5, 1.5], [2.0, 2.9]], np.float32),
        gt_labels=np.array([1, 0], np.int64),
        point_snippets=np.array([1, 3, 3], np.int64),
        point_labels=np.array([1, 0, 1], np.int64),
        video_label=np.array([1.0, 1.0, 0.0], np.float32),
        feature_paths=['x'], sample_idx=0)
    res.update(over)
    return res


def test_pack_contract():
    out = PackPointTALInputs()(_results())
    assert set(out) == {'inputs', 'data_samples'}
    x, ds = out['inputs'], out['data_samples']
    assert isinstance(x, torch.Tensor) and x.dtype == torch.float32
    assert x.shape == (5, 2) and x[4, 1].item() == 9.0
    assert isinstance(ds, ActionDataSample)
    assert ds.metainfo == dict(video_name='v', duration=3.0, fps=30.0,
                               num_snippets=5, snippet_seconds=0.64)
    assert isinstance(ds.gt_instances, InstanceData)
    assert ds.gt_instances.segments.dtype == torch.float32
    torch.testing.assert_close(ds.gt_instances.segments,
                               torch.tensor([[0.5, 1.5], [2.0, 2.9]]))
    assert ds.gt_instances.labels.dtype == torch.long
    assert ds.gt_instances.labels.tolist() == [1, 0]
    assert isinstance(ds.gt_points, InstanceData)
    assert ds.gt_points.snippets.dtype == torch.long
    assert ds.gt_points.snippets.tolist() == [1, 3, 3]
    assert ds.gt_points.labels.tolist() == [1, 0, 1]
    assert 'gt_video_label' in ds
    assert ds.gt_video_label.dtype == torch.float32
    assert ds.gt_video_label.tolist() == [1.0, 1.0, 0.0]


def test_pack_empty_annotations_and_copy_of_features():
    feats = np.ones((4, 3), np.float32)
    feats.setflags(write=False)  # as cached by LoadSnippetFeatures
    out = PackPointTALInputs()(_results(
        features=feats, gt_segments=np.zeros((0, 2), np.float32),
        gt_labels=np.zeros(0, np.int64),
        point_snippets=np.zeros(0, np.int64),
        point_labels=np.zeros(0, np.int64)))
    ds = out['data_samples']
    assert ds.gt_instances.segments.shape == (0, 2)
    assert ds.gt_instances.labels.shape == (0, )
    assert ds.gt_points.snippets.shape == (0, )
    out['inputs'][0, 0] = 7.0  # a copy: the cached array is untouched
    assert feats[0, 0] == 1.0


def test_pack_needs_features():
    res = _results()
    del res['features']
    with pytest.raises(KeyError, match='LoadSnippetFeatures'):
        PackPointTALInputs()(res)
