"""tools/infer.py and hrpro_plugin.apis.inference on the tiny two-stage run."""
import json
import math
import os
import os.path as osp
import shutil

import numpy as np
import pytest
import torch

from _helpers import REPO_ROOT, load_script, run_tool


def _run_files(tiny_run):
    wd = tiny_run['work_dir']
    # the config saved in the work dir carries the run's --cfg-options
    return osp.join(wd, 'hrpro_synthetic.py'), osp.join(wd, 'stage2.pth')


def _classes(ckpt):
    meta = torch.load(ckpt, map_location='cpu', weights_only=False)['meta']
    return list(meta['dataset_meta']['classes'])


def _check_results(path, lengths, snippet_seconds, classes):
    data = json.loads(open(path).read())
    assert set(data) == {'version', 'results', 'external_data'}
    assert set(data['results']) == set(lengths)
    total = 0
    for video, preds in data['results'].items():
        duration = lengths[video] * snippet_seconds
        for p in preds:
            s, e = p['segment']
            assert 0 <= s < e <= duration + 1e-6, (video, p, duration)
            assert p['label'] in classes
            assert math.isfinite(p['score'])
        scores = [p['score'] for p in preds]
        assert scores == sorted(scores, reverse=True)
        total += len(preds)
    assert total > 0
    return data


@pytest.mark.slow
def test_infer_folder_writes_results_and_summary(tiny_run, tmp_path):
    config, ckpt = _run_files(tiny_run)
    feat_dir = osp.join(tiny_run['data_root'], 'features', 'test')
    out = tmp_path / 'res' / 'results.json'
    proc = run_tool('tools/infer.py', config, ckpt, '--features', feat_dir,
                    '--out', out, '--batch-size', 2)
    lengths = {
        osp.splitext(f)[0]: np.load(osp.join(feat_dir, f)).shape[0]
        for f in sorted(os.listdir(feat_dir))
    }
    _check_results(str(out), lengths, 16 / 25, _classes(ckpt))
    for video in lengths:
        assert f'{video}: ' in proc.stdout
    assert 'detections' in proc.stdout
    assert f'results written to {out}' in proc.stdout


@pytest.mark.slow
def test_infer_one_file_with_snippet_seconds(tiny_run, tmp_path):
    config, ckpt = _run_files(tiny_run)
    feat = osp.join(tiny_run['data_root'], 'features', 'test',
                    'synthetic_test_0001.npy')
    out = tmp_path / 'one.json'
    tool = load_script('tools/infer.py', '_tool_infer')
    results = tool.main([config, ckpt, '--features', feat, '--out',
                         str(out), '--snippet-seconds', '0.5'])
    T = np.load(feat).shape[0]
    data = _check_results(str(out), {'synthetic_test_0001': T}, 0.5,
                          _classes(ckpt))
    assert len(results) == 1 and results[0]['duration'] == T * 0.5
    # same detections as the API returns, in the file's order
    got = data['results']['synthetic_test_0001']
    assert [p['label'] for p in got] == results[0]['label_names']


@pytest.mark.slow
def test_api_matches_across_batching_and_layouts(tiny_run, tmp_path):
    from hrpro_plugin.apis import inference_localizer, init_localizer
    config, ckpt = _run_files(tiny_run)
    model = init_localizer(config, ckpt, 'cpu')
    assert model.dataset_meta['classes'] == _classes(ckpt)
    feat_dir = osp.join(tiny_run['data_root'], 'features', 'test')
    a = inference_localizer(model, feat_dir, batch_size=1)
    b = inference_localizer(model, feat_dir, batch_size=5)
    assert [r['video'] for r in a] == [r['video'] for r in b]
    for x, y in zip(a, b):  # padding in a batch changes nothing
        np.testing.assert_allclose(x['scores'], y['scores'], atol=1e-5)
        np.testing.assert_allclose(x['segments'], y['segments'], atol=1e-4)
    # rgb/ + flow/ layout: the two halves are concatenated rgb first
    split = tmp_path / 'split'
    (split / 'rgb').mkdir(parents=True)
    (split / 'flow').mkdir()
    arrays = {}
    for r in a[:2]:
        feats = np.load(osp.join(feat_dir, r['video'] + '.npy'))
        arrays[r['video']] = feats
        half = feats.shape[1] // 2
        np.save(split / 'rgb' / (r['video'] + '.npy'), feats[:, :half])
        np.save(split / 'flow' / (r['video'] + '.npy'), feats[:, half:])
    c = inference_localizer(model, str(split))
    d = inference_localizer(model, arrays)  # {name: array} input
    for x, y, z in zip(a[:2], c, d):
        assert x['video'] == y['video'] == z['video']
        np.testing.assert_allclose(x['scores'], y['scores'], atol=1e-5)
        np.testing.assert_allclose(x['scores'], z['scores'], atol=1e-5)


@pytest.mark.slow
def test_infer_clear_errors(tiny_run, tmp_path):
    config, ckpt = _run_files(tiny_run)
    tool = load_script('tools/infer.py', '_tool_infer')
    feat_dir = osp.join(tiny_run['data_root'], 'features', 'test')

    def fails(features, *extra):
        with pytest.raises(SystemExit) as exc:
            tool.main([config, ckpt, '--features', str(features), '--out',
                       str(tmp_path / 'x.json'), *extra])
        return str(exc.value.code)

    assert 'does not exist' in fails(tmp_path / 'nope')
    (tmp_path / 'empty').mkdir()
    assert 'no .npy' in fails(tmp_path / 'empty')
    bad = tmp_path / 'bad'
    bad.mkdir()
    shutil.copy(osp.join(feat_dir, 'synthetic_test_0000.npy'), bad)
    np.save(bad / 'wide.npy', np.zeros((9, 7), np.float32))
    msg = fails(bad)
    assert 'wide.npy' in msg and '7-d' in msg
    nan = np.load(osp.join(feat_dir, 'synthetic_test_0000.npy'))
    nan[3, 1] = np.nan
    np.save(tmp_path / 'nan.npy', nan)
    msg = fails(tmp_path / 'nan.npy')
    assert 'nan.npy' in msg and 'NaN' in msg
    # a config whose model does not fit the checkpoint: clear, not silent
    with pytest.raises(SystemExit) as exc:
        tool.main([osp.join(REPO_ROOT, 'configs', 'hrpro_synthetic.py'), ckpt, '--features',
                   feat_dir, '--out', str(tmp_path / 'y.json')])
    assert 'does not fit' in str(exc.value.code)
    assert not (tmp_path / 'x.json').exists()
