"""TALmAPMetric on predictions held on the test device, and the whole
inference path (stage-1 network, candidates, instance head, soft-NMS,
seconds) on the device against the CPU."""
import pytest
import torch
from mmengine.structures import InstanceData

from _devices import (C, PRED_ATOL, assert_close, batch, build_model,
                      make_features, make_samples, on)
from hrpro_plugin.evaluation import TALmAPMetric
from mmaction.structures import ActionDataSample

pytestmark = pytest.mark.cuda

CLASSES = [f'c{i}' for i in range(C)]


def _metric():
    m = TALmAPMetric()
    m.dataset_meta = dict(classes=CLASSES)
    return m


def _hand_samples(device):
    """v1, class 0: TP, FP, TP of 2 GT; v2, class 1: one exact detection;
    v3: one missed class-0 GT. Class 0: 3 GT, precision 1, 1/2, 2/3 at
    recall 1/3, 1/3, 2/3 -> AP 5/9; class 1: AP 1; mAP 7/9 at every tIoU."""
    def sample(video, gt, gt_lab, seg, lab, score):
        s = ActionDataSample(metainfo=dict(video_name=video))
        s.gt_instances = InstanceData(
            segments=torch.tensor(gt, dtype=torch.float32).reshape(-1, 2),
            labels=torch.tensor(gt_lab, dtype=torch.long))
        s.pred_instances = InstanceData(
            segments=torch.tensor(seg, dtype=torch.float32).reshape(-1, 2),
            labels=torch.tensor(lab, dtype=torch.long),
            scores=torch.tensor(score, dtype=torch.float32))
        return s.to(device)
    return [sample('v1', [[0, 10], [20, 30]], [0, 0],
                   [[0, 10], [50, 60], [20, 30]], [0, 0, 0], [.9, .8, .7]),
            sample('v2', [[5, 8]], [1], [[5, 8]], [1], [.6]),
            sample('v3', [[1, 2]], [0], [], [], [])]


def test_metric_known_answer_on_device_tensors(device):
    samples = _hand_samples(device)
    assert samples[0].pred_instances.scores.device.type == device.type
    metric = _metric()
    metric.process({}, samples)
    out = metric.compute_metrics(metric.results)
    assert out['mAP@0.50'] == pytest.approx(100 * 7 / 9)
    assert out['mAP_avg'] == pytest.approx(100 * 7 / 9)
    cpu = _metric()
    cpu.process({}, _hand_samples(torch.device('cpu')))
    assert cpu.compute_metrics(cpu.results) == out


def _predict(model, feats, samples):
    with torch.no_grad():
        return model(**batch(model, feats, samples), mode='predict')


@pytest.mark.parametrize('stage', [1, 2])
def test_inference_and_map_match(device, stage):
    cpu = build_model().eval()
    if stage == 2:
        cpu.switch_to_stage2()
    dev = on(cpu, device)
    feats, samples = make_features(), make_samples()
    ref = _predict(cpu, feats, samples)
    got = _predict(dev, feats, samples)
    total = 0
    for r, g in zip(ref, got):
        p, q = r.pred_instances, g.pred_instances
        assert q.segments.device.type == device.type
        assert len(p) == len(q)
        total += len(p)
        assert torch.equal(q.labels.cpu(), p.labels)
        assert_close(q.segments, p.segments, atol=PRED_ATOL, what='segments')
        assert_close(q.scores, p.scores, atol=PRED_ATOL, what='scores')
        assert_close(g.pred_video_scores, r.pred_video_scores,
                     atol=PRED_ATOL, what='video scores')
    assert total > 20
    maps = []
    for preds in (ref, got):
        metric = _metric()
        metric.process({}, preds)
        maps.append(metric.compute_metrics(metric.results))
    assert maps[0]['mAP@0.10'] > 0      # some detection hits a GT
    for k, v in maps[0].items():
        assert maps[1][k] == pytest.approx(v, abs=1e-3), k
