"""Results/ground-truth/ambiguous file I/O and tools/eval_map.py."""
import json
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

from hrpro_plugin.evaluation.functional import (load_ambiguous,
                                                load_ground_truth,
                                                load_results, write_results)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'eval_map.py')
CLASSES = ['Jump', 'Run']


def write_json(path, obj):
    path.write_text(json.dumps(obj))
    return str(path)


# ---------------------------------------------------------------- results
def test_results_round_trip(tmp_path):
    per_video = {
        'v_abc': (np.array([[0.1, 2.5], [3.0, 4.0]]), np.array([1, 0]),
                  np.array([0.123456789012345, 0.5])),
        'empty': (np.zeros((0, 2)), np.zeros(0, int), np.zeros(0)),
    }
    path = str(tmp_path / 'deep' / 'r.json')
    write_results(path, per_video, CLASSES)
    raw = json.load(open(path))
    assert raw['version'] == 'HR-Pro' and raw['external_data'] == {}
    assert raw['results']['v_abc'][0] == dict(label='Run',
                                              segment=[0.1, 2.5],
                                              score=0.123456789012345)
    back = load_results(path, CLASSES)
    assert list(back) == ['v_abc', 'empty']  # names kept verbatim
    for v, (s, l, x) in per_video.items():
        assert np.array_equal(back[v][0], s.reshape(-1, 2))
        assert np.array_equal(back[v][1], l)
        assert np.array_equal(back[v][2], x)
        assert back[v][0].shape == (len(l), 2)


def entry(label='Jump', segment=(1.0, 2.0), score=0.5):
    return dict(
        label=label,
        segment=list(segment) if isinstance(segment, tuple) else segment,
        score=score)


@pytest.mark.parametrize('bad,pattern', [
    (entry(segment=(3.0, 2.0)), 'reversed or empty'),
    (entry(segment=(2.0, 2.0)), 'reversed or empty'),
    (entry(segment=(-1.0, 2.0)), 'negative segment start'),
    (entry(segment=[1.0]), 'two finite numbers'),
    (entry(segment=[1.0, 'x']), 'two finite numbers'),
    (entry(segment=[1.0, float('inf')]), 'two finite numbers'),
    (entry(score=float('nan')), 'finite number'),
    (entry(score=float('inf')), 'finite number'),
    (entry(score='0.5'), 'finite number'),
    (entry(score=None), 'finite number'),
    (entry(score=True), 'finite number'),
    (entry(label='Swim'), "unknown class label 'Swim'"),
    (entry(label=0), 'unknown class label 0'),
    ({
        'label': 'Jump',
        'segment': [1, 2]
    }, r"missing field\(s\) \['score'\]"),
    ([1, 2, 0.5], 'expected an object'),
])
def test_load_results_rejections_name_video_and_entry(tmp_path, bad, pattern):
    path = write_json(tmp_path / 'r.json',
                      dict(results={'vid_7': [entry(), bad]}))
    with pytest.raises(ValueError, match=pattern) as e:
        load_results(path, CLASSES)
    assert "video 'vid_7', entry 1" in str(e.value)


def test_load_results_rejects_malformed_structure(tmp_path):
    bad = tmp_path / 'r.json'
    bad.write_text('{"results": {')
    with pytest.raises(ValueError, match='not valid JSON'):
        load_results(str(bad), CLASSES)
    path = write_json(tmp_path / 'a.json', dict(version='x'))
    with pytest.raises(ValueError, match='"results"'):
        load_results(path, CLASSES)
    path = write_json(tmp_path / 'b.json', dict(results={'v': {}}))
    with pytest.raises(ValueError, match="video 'v': expected a list"):
        load_results(path, CLASSES)
    with pytest.raises(FileNotFoundError, match='missing.json'):
        load_results(str(tmp_path / 'missing.json'), CLASSES)


# -------------------------------------------------------------- ambiguous
def test_load_ambiguous(tmp_path):
    p = tmp_path / 'amb.txt'
    p.write_text('video_test_1  0.0 1.4\n\nvideo_test_1 95.7\t97.2\n'
                 'v2 3 4\n')
    amb = load_ambiguous(str(p))
    assert amb['video_test_1'].tolist() == [[0.0, 1.4], [95.7, 97.2]]
    assert amb['v2'].tolist() == [[3.0, 4.0]]
    p.write_text('v1 0 1\nv1 0\n')
    with pytest.raises(ValueError, match='line 2'):
        load_ambiguous(str(p))
    p.write_text('v1 a b\n')
    with pytest.raises(ValueError, match='line 1.*numbers'):
        load_ambiguous(str(p))
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        load_ambiguous(str(tmp_path / 'nope.txt'))


# ------------------------------------------------------------- dataset
@pytest.fixture
def tiny(tmp_path):
    """gt: vA Jump [0,10],[20,30]; vB Run [5,8]; vC Jump [1,2] (blockable);
    vTrain (not in the split) Run [0,1]."""
    db = {
        'vA':
        dict(subset='Test',
             duration=60,
             annotations=[
                 dict(label='Jump', segment=[0, 10]),
                 dict(label='Jump', segment=[20, 30])
             ]),
        'vB':
        dict(subset='Test',
             duration=20,
             annotations=[dict(label='Run', segment=[5, 8])]),
        'vC':
        dict(subset='Test',
             duration=5,
             annotations=[dict(label='Jump', segment=[1, 2])]),
        'vTrain':
        dict(subset='Validation',
             duration=5,
             annotations=[dict(label='Run', segment=[0, 1])]),
    }
    gt = write_json(tmp_path / 'gt_full.json', dict(version='t', database=db))
    split = tmp_path / 'split_test.txt'
    split.write_text('vA\nvB\nvC\n')
    # Jump: 0.9 vA [0,10] TP; 0.8 vA [50,60] FP; 0.7 vA [20,28] (tIoU 0.8)
    # Run:  0.6 vB [5,8] TP
    # vTrain: a high-scoring FP that must be ignored (outside the split)
    results = {
        'vA': [
            entry('Jump', (0.0, 10.0), .9),
            entry('Jump', (50., 60.), .8),
            entry('Jump', (20.0, 28.0), .7)
        ],
        'vB': [entry('Run', (5.0, 8.0), .6)],
        'vTrain': [entry('Run', (40.0, 41.0), .99)],
    }
    pred = write_json(tmp_path / 'results.json', dict(results=results))
    amb = tmp_path / 'amb.txt'
    amb.write_text('vA 55 56\n')
    return dict(gt=gt, split=str(split), pred=pred, amb=str(amb))


def test_load_ground_truth(tiny):
    gt, classes = load_ground_truth(tiny['gt'], tiny['split'])
    assert classes == CLASSES
    assert list(gt) == ['vA', 'vB', 'vC']
    assert gt['vA'][0].tolist() == [[0, 10], [20, 30]]
    assert gt['vB'][1].tolist() == [1]
    gt, classes = load_ground_truth(tiny['gt'],
                                    tiny['split'],
                                    classes=['Run', 'Jump', 'Swim'])
    assert gt['vA'][1].tolist() == [0 + 1, 1]
    with pytest.raises(ValueError, match="'Jump' not in the class list"):
        load_ground_truth(tiny['gt'], tiny['split'], classes=['Run'])


def run_tool(*args):
    proc = subprocess.run([sys.executable, TOOL, *args],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_eval_map_subprocess_known_values(tiny):
    # thresholds 0.5 and 0.9, with vC blocked:
    #   Jump at 0.5: TP FP TP over 2 GT -> AP 5/6; at 0.9: TP FP FP -> 1/2
    #   Run: AP 1 at both -> mAP = [(5/6 + 1)/2, (1/2 + 1)/2] = [11/12, 3/4]
    out = run_tool('--gt', tiny['gt'], '--pred', tiny['pred'], '--split',
                   tiny['split'], '--tiou', '0.5:0.9:0.4', '--per-class',
                   '--blocked', 'vC')
    lines = out.strip().splitlines()
    final = json.loads(lines[-1])
    assert final['tiou'] == [0.5, 0.9]
    assert final['map'] == pytest.approx([11 / 12, 3 / 4])
    assert final['avg'] == pytest.approx((11 / 12 + 3 / 4) / 2)
    assert '91.67' in out and '75.00' in out and '83.33' in out  # percent
    assert 'avg (all)' in out and 'per-class AP' in out


def test_eval_map_main_ambiguous_default_tiou(tiny, capsys):
    sys.path.insert(0, osp.join(REPO, 'tools'))
    try:
        import eval_map
    finally:
        sys.path.pop(0)
    # default thresholds 0.1..0.7; vC not blocked: Jump has 3 GT.
    # ambiguous vA [55, 56] drops the FP [50, 60]:
    #   Jump: TP TP (0.7 [20,28] has tIoU 0.8 >= 0.7), vC missed -> AP 2/3
    #   Run: 1 -> mAP 5/6 at every threshold
    eval_map.main([
        '--gt', tiny['gt'], '--pred', tiny['pred'], '--split', tiny['split'],
        '--ambiguous', tiny['amb']
    ])
    out = capsys.readouterr().out
    final = json.loads(out.strip().splitlines()[-1])
    assert final['tiou'] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    assert final['map'] == pytest.approx([5 / 6] * 7)
    for row in ('avg [0.1:0.5]', 'avg [0.3:0.7]', 'avg [0.1:0.7]'):
        assert row in out
    assert eval_map.parse_tiou('0.5:0.95:0.05') == pytest.approx(
        list(np.linspace(0.5, 0.95, 10)))
    assert eval_map.parse_tiou('0.3,0.5') == [0.3, 0.5]


def test_tool_reproduces_metric_out_file(tmp_path, capsys):
    """The metric's out_file scored by the tool with the same ambiguous file
    and blocked videos gives the metric's numbers (percent vs fraction)."""
    import torch
    from mmengine.structures import InstanceData

    from hrpro_plugin.evaluation import TALmAPMetric
    from mmaction.structures import ActionDataSample
    rng = np.random.default_rng(3)
    db, samples = {}, []
    for v in range(8):
        k = int(rng.integers(1, 5))
        s = rng.uniform(0, 50, k)
        gt = np.stack([s, s + rng.uniform(1, 8, k)], 1).round(1)
        gl = rng.integers(0, 2, k)
        m = int(rng.integers(0, 8))
        src = rng.integers(0, k, m)
        ps = np.abs(gt[src] + rng.normal(0, 1, (m, 2)))
        ps[:, 1] = np.maximum(ps[:, 1], ps[:, 0] + .1)
        pl = np.where(rng.random(m) < .8, gl[src], rng.integers(0, 2, m))
        name = f'video_test_{v:07d}'
        db[name] = dict(subset='Test',
                        annotations=[
                            dict(label=CLASSES[c], segment=seg.tolist())
                            for seg, c in zip(gt, gl)
                        ])
        d = ActionDataSample(metainfo=dict(video_name=name))
        d.gt_instances = InstanceData(segments=torch.tensor(gt),
                                      labels=torch.tensor(gl))
        d.pred_instances = InstanceData(
            segments=torch.tensor(ps, dtype=torch.float32),
            labels=torch.tensor(pl),
            scores=torch.tensor(rng.random(m), dtype=torch.float32))
        samples.append(d)
    gt_path = write_json(tmp_path / 'gt_full.json', dict(database=db))
    (tmp_path / 'split.txt').write_text('\n'.join(db) + '\n')
    amb = tmp_path / 'amb.txt'
    amb.write_text('video_test_0000001 10 20\nvideo_test_0000004 0 30\n')
    out_file = str(tmp_path / 'results.json')
    metric = TALmAPMetric(ambiguous_file=str(amb),
                          out_file=out_file,
                          blocked_videos=['video_test_0000002'])
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, [s.to_dict() for s in samples])
    res = metric.compute_metrics(metric.results)

    sys.path.insert(0, osp.join(REPO, 'tools'))
    try:
        import eval_map
    finally:
        sys.path.pop(0)
    capsys.readouterr()
    eval_map.main([
        '--gt', gt_path, '--pred', out_file, '--split',
        str(tmp_path / 'split.txt'), '--ambiguous',
        str(amb), '--blocked', 'video_test_0000002'
    ])
    final = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    thr = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    assert [100 * x for x in final['map']
            ] == pytest.approx([res[f'mAP@{t:.2f}'] for t in thr], abs=1e-9)
    assert 100 * final['avg'] == pytest.approx(res['mAP_avg'], abs=1e-9)
    assert 0 < final['avg'] < 1
