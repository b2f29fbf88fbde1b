"""benchmarks/ablation.py resumes: a test whose metrics are newer than the
checkpoint is not run again; an older metrics file is not trusted."""
import json
import os
import os.path as osp
import types


from _helpers import load_script


def _ablation():
    return load_script('benchmarks/ablation.py', 'ablation_under_test')


def test_cached_metrics_are_reused_only_when_newer(tmp_path, monkeypatch):
    abl = _ablation()
    ckpt = tmp_path / 'stage2.pth'
    ckpt.write_bytes(b'x')
    metrics = tmp_path / 'metrics_stage2.pth.json'
    metrics.write_text(json.dumps({'mAP_avg': 12.5}))
    t = osp.getmtime(ckpt)
    os.utime(metrics, (t + 10, t + 10))
    calls = []
    monkeypatch.setattr(abl, 'run', lambda cmd, log: calls.append(cmd))
    args = types.SimpleNamespace(data_root=str(tmp_path))
    assert abl.test('cfg.py', str(ckpt), str(tmp_path), args) == {
        'mAP_avg': 12.5}
    assert calls == []
    # a checkpoint newer than its metrics: tested again
    os.utime(metrics, (t - 10, t - 10))
    abl.test('cfg.py', str(ckpt), str(tmp_path), args)
    assert len(calls) == 1 and calls[0][0] == 'tools/test.py'
    assert '--metrics-out' in calls[0]
