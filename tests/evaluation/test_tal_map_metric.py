"""TALmAPMetric: known answers, filtering, multi-process exactness, output."""
import json
import logging

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData

import hrpro_plugin  # noqa: F401  (registers)
from hrpro_plugin.evaluation import TALmAPMetric
from hrpro_plugin.evaluation.functional import (load_results,
                                                mean_average_precision)
from mmaction.registry import METRICS
from mmaction.structures import ActionDataSample

CLASSES = ['a', 'b', 'c']
DEFAULT_KEYS = [
    'mAP@0.10', 'mAP@0.20', 'mAP@0.30', 'mAP@0.40', 'mAP@0.50', 'mAP@0.60',
    'mAP@0.70', 'mAP_avg', 'mAP_avg_0.1-0.5', 'mAP_avg_0.3-0.7',
    'mAP_avg_0.1-0.7'
]


def make_sample(video, gt_segs, gt_labels, segs, labels, scores):
    s = ActionDataSample(metainfo=dict(video_name=video))
    s.gt_instances = InstanceData(
        segments=torch.tensor(gt_segs, dtype=torch.float32).reshape(-1, 2),
        labels=torch.tensor(gt_labels, dtype=torch.long).reshape(-1))
    s.pred_instances = InstanceData(
        segments=torch.tensor(segs, dtype=torch.float32).reshape(-1, 2),
        labels=torch.tensor(labels, dtype=torch.long).reshape(-1),
        scores=torch.tensor(scores, dtype=torch.float32).reshape(-1))
    return s


def hand_samples():
    """v1: class a, the TP-FP-TP case (AP 5/6 at every threshold <= 1);
    v2: class b, one perfect detection (AP 1); v3: no predictions, GT of
    class a (adds one missed GT to class a)."""
    return [
        make_sample('v1', [[0, 10], [20, 30]], [0, 0],
                    [[0, 10], [50, 60], [20, 30]], [0, 0, 0], [.9, .8, .7]),
        make_sample('v2', [[5, 8]], [1], [[5, 8]], [1], [.6]),
        make_sample('v3', [[1, 2]], [0], [], [], []),
    ]


def new_metric(**kw):
    m = TALmAPMetric(**kw)
    m.dataset_meta = dict(classes=CLASSES)
    return m


def run(metric, samples, as_dict=True):
    metric.process({}, [s.to_dict() if as_dict else s for s in samples])
    return metric.compute_metrics(metric.results)


# class a with v3's missed GT: 3 GT; TP FP TP -> precision 1, 1/2, 2/3,
# recall 1/3, 1/3, 2/3 -> AP = 1/3 * 1 + 1/3 * 2/3 = 5/9; class b AP 1
# -> mAP = (5/9 + 1) / 2 = 7/9 at every threshold.
HAND_MAP = 100 * 7 / 9


@pytest.mark.parametrize('as_dict', [True, False])
def test_known_answer_and_keys(as_dict):
    out = run(new_metric(), hand_samples(), as_dict)
    assert list(out) == DEFAULT_KEYS
    for k in DEFAULT_KEYS:
        assert out[k] == pytest.approx(HAND_MAP)


def test_keys_for_activitynet_thresholds_and_list_argument():
    thr = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
    out = run(new_metric(tiou_thresholds=thr), hand_samples())
    assert list(out) == [f'mAP@{t:.2f}' for t in thr] + ['mAP_avg']


def test_built_from_registry_and_logs_table():
    metric = METRICS.build(dict(type='TALmAPMetric', per_class=True))
    metric.dataset_meta = dict(classes=CLASSES)
    from mmengine.logging import MMLogger
    logger = MMLogger.get_instance('test_tal_map_metric')
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger.addHandler(handler)
    try:
        run(metric, hand_samples())
    finally:
        logger.removeHandler(handler)
    text = '\n'.join(lines)
    assert f'{HAND_MAP:.2f}' in text
    for row in ('0.10', '0.70', 'avg [0.1:0.5]', 'avg [0.3:0.7]',
                'avg [0.1:0.7]', 'avg (all)', 'per-class AP'):
        assert row in text
    assert '55.56' in text and '100.00' in text  # per-class a, b
    # class c has no GT: shown with '-'
    assert any(
        line.startswith('| c ') and '-' in line for line in text.splitlines())


def test_evaluate_path_has_no_prefix_by_default():
    metric = new_metric()
    metric.process({}, [s.to_dict() for s in hand_samples()])
    out = metric.evaluate(3)
    assert out['mAP_avg'] == pytest.approx(HAND_MAP)
    assert metric.results == []
    metric = new_metric(prefix='tal')
    metric.process({}, [s.to_dict() for s in hand_samples()])
    assert 'tal/mAP_avg' in metric.evaluate(3)


def test_gt_taken_from_data_batch_when_output_lacks_it():
    samples = hand_samples()
    outputs = []
    for s in samples:
        d = s.to_dict()
        d.pop('gt_instances')
        outputs.append(d)
    metric = new_metric()
    metric.process(dict(inputs=None, data_samples=samples), outputs)
    out = metric.compute_metrics(metric.results)
    assert out['mAP_avg'] == pytest.approx(HAND_MAP)
    with pytest.raises(KeyError, match='gt_instances'):
        new_metric().process({}, outputs)


def test_ambiguous_filtering(tmp_path):
    # ambiguous [55, 58] in v1 removes the FP [50, 60]: class a becomes
    # TP TP then the missed v3 GT: AP = 2/3 -> mAP (2/3 + 1) / 2 = 5/6.
    # [60, 61] only touches [50, 60]: nothing dropped.
    amb = tmp_path / 'Ambiguous_test.txt'
    amb.write_text('v1 55.0 58.0\nv2 100 120\n')
    out = run(new_metric(ambiguous_file=str(amb)), hand_samples())
    assert out['mAP_avg'] == pytest.approx(100 * 5 / 6)
    amb.write_text('v1 60 61\n')
    out = run(new_metric(ambiguous_file=str(amb)), hand_samples())
    assert out['mAP_avg'] == pytest.approx(HAND_MAP)


def test_missing_ambiguous_file_fails_at_construction(tmp_path):
    path = str(tmp_path / 'nope' / 'Ambiguous_test.txt')
    with pytest.raises(FileNotFoundError, match='Ambiguous_test.txt'):
        TALmAPMetric(ambiguous_file=path)


def test_blocked_videos():
    # blocking v3 removes its missed GT: class a AP 5/6 -> mAP (5/6+1)/2;
    # blocking v2 removes class b entirely -> mAP = class a = 5/9
    out = run(new_metric(blocked_videos=['v3']), hand_samples())
    assert out['mAP_avg'] == pytest.approx(100 * (5 / 6 + 1) / 2)
    out = run(new_metric(blocked_videos=('v2', )), hand_samples())
    assert out['mAP_avg'] == pytest.approx(100 * 5 / 9)


def test_empty_predictions_everywhere():
    samples = [
        make_sample('v1', [[0, 1]], [0], [], [], []),
        make_sample('v2', [], [], [], [], [])
    ]
    out = run(new_metric(), samples)
    assert all(v == 0 for v in out.values())


def test_requires_class_names():
    metric = TALmAPMetric()
    metric.process({}, [s.to_dict() for s in hand_samples()])
    with pytest.raises(ValueError, match='classes'):
        metric.compute_metrics(metric.results)


def random_samples(seed, n=9):
    rng = np.random.default_rng(seed)
    out = []
    for v in range(n):
        k = int(rng.integers(1, 5))
        s = rng.uniform(0, 50, k)
        gt = np.stack([s, s + rng.uniform(1, 8, k)], 1)
        gl = rng.integers(0, 3, k)
        m = int(rng.integers(0, 8))
        src = rng.integers(0, k, m)
        ps = gt[src] + rng.normal(0, 1, (m, 2))
        ps[:, 1] = np.maximum(ps[:, 1], ps[:, 0] + .1)
        pl = np.where(rng.random(m) < .8, gl[src], rng.integers(0, 3, m))
        out.append(make_sample(f'v_{v}', gt, gl, ps, pl, rng.random(m)))
    return out


@pytest.mark.parametrize('seed', [0, 1])
def test_multi_process_exactness(seed):
    samples = random_samples(seed)
    single = run(new_metric(), samples)
    # two ranks, DefaultSampler-style split: rank r gets samples r, r+2, ...
    # and rank 1 is padded with a repeat of sample 0 (9 samples, 2 ranks)
    r0, r1 = new_metric(), new_metric()
    r0.process({}, [s.to_dict() for s in samples[0::2]])
    r1.process({}, [s.to_dict() for s in samples[1::2] + samples[:1]])
    # collect_results (cpu) zips the ranks' lists; keep the padded repeat to
    # exercise de-duplication
    merged = [r for pair in zip(r0.results, r1.results) for r in pair]
    assert len(merged) == len(samples) + 1
    merged_metric = new_metric()
    out = merged_metric.compute_metrics(merged)
    assert out == single
    # and the values are what the functional API gives on all samples
    gt = {
        s.video_name: (s.gt_instances.segments.double().numpy(),
                       s.gt_instances.labels.numpy())
        for s in samples
    }
    pr = {
        s.video_name: (s.pred_instances.segments.double().numpy(),
                       s.pred_instances.labels.numpy(),
                       s.pred_instances.scores.double().numpy())
        for s in samples
    }
    m, _, _ = mean_average_precision(gt, pr, CLASSES,
                                     [.1, .2, .3, .4, .5, .6, .7])
    assert [out[f'mAP@{t:.2f}'] for t in (.1, .2, .3, .4, .5, .6, .7)] == \
        pytest.approx(100 * m, abs=1e-9)


def test_out_file_round_trip(tmp_path):
    path = tmp_path / 'sub' / 'results.json'
    samples = hand_samples()
    out = run(new_metric(out_file=str(path), blocked_videos=['v3']), samples)
    data = json.loads(path.read_text())
    assert data['version'] == 'HR-Pro' and data['external_data'] == {}
    assert set(data['results']) == {'v1', 'v2', 'v3'}  # raw, blocked kept
    assert data['results']['v3'] == []
    assert data['results']['v1'][0] == dict(label='a',
                                            segment=[0.0, 10.0],
                                            score=pytest.approx(.9))
    back = load_results(str(path), CLASSES)
    for s in samples:
        segs, labels, scores = back[s.video_name]
        assert np.array_equal(segs, s.pred_instances.segments.double())
        assert np.array_equal(labels, s.pred_instances.labels)
        assert np.array_equal(scores, s.pred_instances.scores.double())
    assert out['mAP_avg'] == pytest.approx(100 * (5 / 6 + 1) / 2)
