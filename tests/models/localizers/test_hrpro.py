"""HRPro wiring: forward modes, masks, the stage switch, inference switches."""
import pytest
import torch
from mmengine.structures import InstanceData

import hrpro_plugin  # noqa: F401
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

C, D = 3, 16


def _model(**kw):
    torch.manual_seed(0)
    cfg = dict(
        type='HRPro', feat_dim=D, num_classes=C,
        neck=dict(type='RABNeck', num_heads=4),
        head=dict(type='SnippetHead'),
        instance_head=dict(type='InstanceHead', hidden_score=(32, 16),
                           hidden_reg=16),
        instance_loss=dict(type='InstanceLoss'))
    cfg.update(kw)
    model = MODELS.build(cfg)
    model.memory.prototypes.normal_()
    model.memory.initialized.fill_(True)
    return model


def _sample(name, T, points=((2, 0),), seconds=0.64):
    ds = ActionDataSample()
    ds.set_metainfo(dict(video_name=name, num_snippets=T,
                         snippet_seconds=seconds, duration=T * seconds,
                         fps=30.0))
    ds.gt_instances = InstanceData(segments=torch.tensor([[0.5, 2.0]]),
                                   labels=torch.tensor([0]))
    ds.gt_points = InstanceData(
        snippets=torch.tensor([p[0] for p in points]),
        labels=torch.tensor([p[1] for p in points]))
    label = torch.zeros(C)
    label[[p[1] for p in points]] = 1
    ds.set_field(label, 'gt_video_label')
    return ds


def _batch(model, feats, samples):
    return model.data_preprocessor(
        dict(inputs=feats, data_samples=samples), False)


def _predict(model, feats, samples):
    data = _batch(model, feats, samples)
    with torch.no_grad():
        return model(**data, mode='predict')


@pytest.mark.parametrize('stage', [1, 2])
def test_predict_same_alone_and_in_a_padded_batch(stage):
    model = _model().eval()
    if stage == 2:
        model.switch_to_stage2()
    g = torch.Generator().manual_seed(1)
    feats = [torch.randn(12, D, generator=g), torch.randn(30, D, generator=g)]
    batch = _predict(model, feats, [_sample('a', 12), _sample('b', 30)])
    alone = _predict(model, feats[:1], [_sample('a', 12)])
    p, q = batch[0].pred_instances, alone[0].pred_instances
    assert len(p) == len(q) > 0
    assert torch.allclose(p.segments, q.segments, atol=1e-5)
    assert torch.equal(p.labels, q.labels)
    assert torch.allclose(p.scores, q.scores, atol=1e-5)
    # seconds at the boundary, inside the video
    assert float(p.segments.min()) >= 0
    assert float(p.segments.max()) <= 12 * 0.64 + 1e-5


def test_loss_stage1_keys_and_memory_moves():
    model = _model().train()
    feats = [torch.randn(20, D), torch.randn(9, D)]
    data = _batch(model, feats, [_sample('a', 20, ((2, 0), (10, 1))),
                                 _sample('b', 9, ((4, 2),))])
    before = model.memory.prototypes.clone()
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_action', 'loss_background',
                           'loss_contrastive'}
    assert all(torch.isfinite(v) for v in losses.values())
    assert not torch.equal(before, model.memory.prototypes)


def test_switch_freezes_stage1_and_stage_buffer_in_state_dict():
    model = _model()
    model.switch_to_stage2()
    assert int(model.state_dict()['stage']) == 2
    assert not any(p.requires_grad for p in model.neck.parameters())
    assert not any(p.requires_grad for p in model.head.parameters())
    assert all(p.requires_grad for p in model.instance_head.parameters())
    model.train()
    assert not model.head.training and model.instance_head.training


def test_stage1_model_cannot_switch():
    model = _model(instance_head=None, instance_loss=None)
    with pytest.raises(RuntimeError, match='stage-1 model'):
        model.switch_to_stage2()


def test_missing_dims_are_a_clear_error():
    with pytest.raises(ValueError, match='feat_dim and num_classes'):
        MODELS.build(dict(type='HRPro', feat_dim=None, num_classes=3))


def test_wrong_feature_width_is_a_clear_error():
    model = _model().eval()
    with pytest.raises(ValueError, match='8-d but the model was built for '
                       'feat_dim=16'):
        _predict(model, [torch.randn(10, 8)], [_sample('a', 10)])


def test_inference_switches_of_the_ablations():
    g = torch.Generator().manual_seed(2)
    feats = [torch.randn(25, D, generator=g)]
    full = _model().eval()
    full.switch_to_stage2()
    no_reg = _model(stage2_cfg=dict(use_regression=False)).eval()
    no_reg.switch_to_stage2()
    no_score = _model(stage2_cfg=dict(use_score=False)).eval()
    no_score.switch_to_stage2()
    s1 = _model().eval()  # stage buffer 1: candidates + OIC only
    n_full = len(_predict(full, feats, [_sample('a', 25)])[0].pred_instances)
    n_noreg = len(_predict(no_reg, feats, [_sample('a', 25)])[0].pred_instances)
    n_s1 = len(_predict(s1, feats, [_sample('a', 25)])[0].pred_instances)
    # without regression each candidate is emitted once, as in stage 1
    assert n_noreg == n_s1 < n_full
    # without the score branch the scores are the stage-1 OIC scores
    p_s1 = _predict(s1, feats, [_sample('a', 25)])[0].pred_instances
    p_ns = _predict(no_score, feats, [_sample('a', 25)])[0].pred_instances
    assert torch.allclose(p_ns.scores.max(), p_s1.scores.max(), atol=1e-6)
