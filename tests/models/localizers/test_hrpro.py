"""HRPro wiring: forward modes, masks, the stage switch, inference switches."""
import pytest
import torch
from mmengine.structures import InstanceData

import hrpro_plugin  # noqa: F401
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from _tiny_hrpro import tiny_hrpro

C, D = 3, 16


def _model(**kw):
    return tiny_hrpro('normal', **kw)


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


def _spy(monkeypatch, obj, name, calls):
    """Record the arguments and the result of every call of ``obj.name``."""
    original = getattr(obj, name)

    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append(dict(args=args, kwargs=kwargs, result=result))
        return result

    monkeypatch.setattr(obj, name, wrapper)


# sigma 1e30: exp(-tIoU^2 / 1e30) == 1.0, so soft-NMS only sorts and the
# final scores are the fused scores themselves
NO_DECAY = dict(type='SoftNMSPostProcessor', sigma=1e30)


def _run_predict(model, monkeypatch, feats, samples):
    """(soft-NMS inputs, InstanceHead.predict outputs, predictions)."""
    nms, head = [], []
    _spy(monkeypatch, model.post_processor, 'forward', nms)
    _spy(monkeypatch, model.instance_head, 'predict', head)
    preds = _predict(model, feats, samples)
    assert len(nms) == 1
    return nms[0]['args'], [h['result'] for h in head], preds


def test_inference_switches_of_the_ablations(monkeypatch):
    g = torch.Generator().manual_seed(2)
    feats = [torch.randn(25, D, generator=g)]

    def stage2(**kw):
        model = _model(post_processor=NO_DECAY, **kw).eval()
        model.switch_to_stage2()
        return model

    full = stage2()
    no_reg = stage2(stage2_cfg=dict(use_regression=False))
    no_score = stage2(stage2_cfg=dict(use_score=False))
    s1 = _model(post_processor=NO_DECAY).eval()  # stage 1: candidates + OIC
    (seg1, oic, lab1, b1), head1, p_s1 = _run_predict(
        s1, monkeypatch, feats, [_sample('a', 25)])
    assert head1 == []                 # stage 1 never calls the head
    n = oic.numel()
    assert n > 0
    # stage 1 scores every candidate by its OIC; soft-NMS without decay
    # only sorts them
    assert p_s1[0].pred_instances.scores.tolist() == \
        sorted(oic.tolist(), reverse=True)

    # without the score branch, every row entering soft-NMS (the n
    # candidates, then the valid refined copies) is scored by the OIC of
    # the candidate it came from, and so is every detection
    (seg, score, lab, b), (fused, ), p_ns = _run_predict(
        no_score, monkeypatch, feats, [_sample('a', 25)])
    source = fused['source']
    assert source[:n].tolist() == list(range(n))
    assert n < source.numel() < 2 * n + 1
    assert torch.equal(seg[:n], seg1) and torch.equal(lab, lab1[source])
    assert torch.equal(score, oic[source])
    assert p_ns[0].pred_instances.scores.tolist() == \
        sorted(oic[source].tolist(), reverse=True)

    # without regression each candidate is emitted once, as in stage 1,
    # scored OIC + p_comp with 0 < p_comp < 1
    (seg, score, lab, b), (fused, ), _ = _run_predict(
        no_reg, monkeypatch, feats, [_sample('a', 25)])
    assert torch.equal(seg, seg1) and torch.equal(lab, lab1)
    assert not bool(fused['refined'].any())
    p_comp = score - oic
    assert bool(((p_comp > 0) & (p_comp < 1)).all())
    # the full model: the same n originals with the same p_comp, plus the
    # valid refined boxes
    (seg, score, _, _), (fused, ), _ = _run_predict(
        full, monkeypatch, feats, [_sample('a', 25)])
    assert n < score.numel()
    assert torch.equal(seg[:n], seg1)
    torch.testing.assert_close(score[:n], oic + p_comp, rtol=0, atol=1e-6)


def test_pack_predictions_seconds_and_duration_clipping():
    """Video a: 0.64 s snippets, duration 10 s (16 snippets cover 10.24 s:
    the last one is partial). Video b: 0.5 s snippets, no duration.
      a [2, 5]       -> [1.28, 3.2]     inside: seconds only
      a [15, 16]     -> [9.6, 10.24]    crosses the duration: end -> 10.0
      a [15.75, 16]  -> [10.08, 10.24]  wholly in the partial snippet
                                        (start >= 10): kept as it is
      b [1, 3]       -> [0.5, 1.5]
      b [20, 30]     -> [10, 15]        no duration: never clipped
    """
    a, b = ActionDataSample(), ActionDataSample()
    a.set_metainfo(dict(video_name='a', num_snippets=16,
                        snippet_seconds=0.64, duration=10.0))
    b.set_metainfo(dict(video_name='b', num_snippets=30,
                        snippet_seconds=0.5))
    segments = torch.tensor([[2.0, 5.0], [15.0, 16.0], [15.75, 16.0],
                             [1.0, 3.0], [20.0, 30.0]])
    labels = torch.tensor([2, 0, 1, 1, 0])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6, 0.5])
    batch_idx = torch.tensor([0, 0, 0, 1, 1])
    video_scores = torch.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    out = MODELS.get('HRPro').pack_predictions(
        [a, b], segments, labels, scores, batch_idx, video_scores)
    pa, pb = out[0].pred_instances, out[1].pred_instances
    assert pa.segments.flatten().tolist() == pytest.approx(
        [1.28, 3.2, 9.6, 10.0, 10.08, 10.24], abs=1e-5)
    assert pa.labels.tolist() == [2, 0, 1]
    assert pa.scores.tolist() == pytest.approx([0.9, 0.8, 0.7])
    assert pb.segments.flatten().tolist() == pytest.approx(
        [0.5, 1.5, 10.0, 15.0], abs=1e-5)
    assert pb.labels.tolist() == [1, 0]
    assert pb.scores.tolist() == pytest.approx([0.6, 0.5])
    assert out[0].pred_video_scores.tolist() == pytest.approx([0.1, 0.2, 0.3])
    assert out[1].pred_video_scores.tolist() == pytest.approx([0.4, 0.5, 0.6])
    # a video without detections gets an empty set
    out = MODELS.get('HRPro').pack_predictions(
        [a, b], segments[3:], labels[3:], scores[3:], batch_idx[3:],
        video_scores)
    assert len(out[0].pred_instances) == 0 and len(out[1].pred_instances) == 2


def _mined_sample(name, T, points):
    """A stage-2 sample: its mined PP / RP / NP (snippet units), as
    LoadMinedProposals puts them on the metainfo."""
    ds = _sample(name, T, points)
    f, l_ = torch.float32, torch.long
    ds.set_metainfo(dict(mined_proposals=dict(
        pp=dict(start=torch.tensor([1.0, 5.0], dtype=f),
                end=torch.tensor([4.0, 8.0], dtype=f),
                label=torch.tensor([0, 0], dtype=l_),
                score=torch.tensor([0.5, 0.2], dtype=f)),
        rp=dict(start=torch.tensor([1.0], dtype=f),
                end=torch.tensor([4.0], dtype=f),
                label=torch.tensor([0], dtype=l_),
                score=torch.tensor([0.5], dtype=f),
                pp_index=torch.tensor([0], dtype=l_),
                point_snippet=torch.tensor([2], dtype=l_),
                point_label=torch.tensor([0], dtype=l_)),
        np=dict(start=torch.tensor([T - 3.0], dtype=f),
                end=torch.tensor([T - 1.0], dtype=f)))))
    return ds


@pytest.mark.parametrize('use_embedded', [False, True])
def test_use_embedded_decides_the_instance_head_features(monkeypatch,
                                                         use_embedded):
    """stage2_cfg.use_embedded=False: the instance head reads the raw
    (padded) features; True: the stage-1 embedded features X^e. Checked in
    the stage-2 loss (a forward hook on the head) and in predict (its
    forward, which predict calls directly)."""
    model = _model(stage2_cfg=dict(use_embedded=use_embedded))
    model.switch_to_stage2()
    model.train()
    g = torch.Generator().manual_seed(5)
    feats = [torch.randn(12, D, generator=g), torch.randn(9, D, generator=g)]
    samples = [_mined_sample('a', 12, ((2, 0),)),
               _mined_sample('b', 9, ((2, 0),))]
    data = _batch(model, feats, samples)
    inputs = data['inputs']
    assert inputs.shape == (2, 12, D)
    mask = model.masks_for(inputs, data['data_samples'])
    with torch.no_grad():
        embedded = model.extract(inputs, mask)['embedded']
    assert not torch.allclose(embedded, inputs, atol=0.1)
    expected = embedded if use_embedded else inputs
    assert bool((expected[1, 9:] == 0).all())       # padding stays zero

    seen = []
    handle = model.instance_head.register_forward_hook(
        lambda m, args, out: seen.append(args))
    losses = model(**data, mode='loss')
    handle.remove()
    assert set(losses) == {'loss_reg', 'loss_score'}
    assert len(seen) == 1
    got, got_mask, batch_idx, start, end = seen[0]
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)
    assert torch.equal(got_mask, mask)
    # each video's positive PP [1, 4] (its RP: target 1) reached the head
    # with its own video index (negatives are drawn at rate 1 / 2)
    pos = (start == 1.0) & (end == 4.0)
    assert batch_idx[pos].tolist() == [0, 1]

    calls = []
    model.eval()
    _spy(monkeypatch, model.instance_head, 'forward', calls)
    with torch.no_grad():
        model(**_batch(model, feats, samples), mode='predict')
    assert len(calls) >= 1
    for call in calls:
        torch.testing.assert_close(call['args'][0], expected, rtol=0,
                                   atol=1e-6)


def _constant_video_scores(model, probs):
    """Snippet head outputs that do not depend on the input: the embedding
    is 1 on every channel (weight 0, bias 1, ReLU) and class ``c``'s logit
    is ``sum_d W[c, d] * 1 = logit(probs[c])``, so every snippet's CAS and
    the video scores (a top-k mean) are ``probs``."""
    conv = model.head.embedding[0]
    cls = model.head.classifier[-1]
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.fill_(1.0)
        cls.weight.zero_()
        for c, p in enumerate(probs):
            cls.weight[c] = torch.logit(torch.tensor(p)) / model.feat_dim


def test_video_loss_weight_adds_the_video_bce():
    """video_loss_weight 0.5 with video scores (0.8, 0.3, 0.6) for both
    videos; labels a = (1, 0, 0), b = (1, 0, 1):
    BCE = -(ln 0.8 + ln 0.7 + ln 0.4 + ln 0.8 + ln 0.7 + ln 0.6) / 6
        = 0.4311255577, loss_video = 0.5 x 0.4311255577 = 0.2155627788.
    (Labels flipped would give -(2 ln 0.2 + 2 ln 0.3 + ln 0.6 + ln 0.4) / 6
    = 1.1756562982 instead.)"""
    model = _model(video_loss_weight=0.5).eval()
    _constant_video_scores(model, (0.8, 0.3, 0.6))
    feats = [torch.randn(20, D), torch.randn(9, D)]
    samples = [_sample('a', 20, ((2, 0),)), _sample('b', 9, ((4, 0), (6, 2)))]
    data = _batch(model, feats, samples)
    with torch.no_grad():
        out = model(data['inputs'], data['data_samples'], mode='tensor')
    torch.testing.assert_close(
        out['video_scores'], torch.tensor([[0.8, 0.3, 0.6]] * 2), rtol=0,
        atol=1e-6)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_action', 'loss_background',
                           'loss_contrastive', 'loss_video'}
    assert losses['loss_video'].item() == pytest.approx(0.2155627788,
                                                        abs=1e-5)
    # weight 0 (the method): no video term at all
    model = _model().eval()
    _constant_video_scores(model, (0.8, 0.3, 0.6))
    assert 'loss_video' not in model(**_batch(model, feats, samples),
                                     mode='loss')
