"""HRPro wiring: each stage-1 loss and the inference step read the tensor
they are meant to read.

The model is built small and put in eval mode (no dropout), so one call of
``extract`` gives the exact tensors that ``loss`` and ``predict`` compute
internally; spies on the parts record what each part received. Every test
also checks that the wrong tensor differs from the right one on these
inputs, so a swapped wire cannot pass by coincidence.
"""
import pytest
import torch
from mmengine.structures import InstanceData

import hrpro_plugin  # noqa: F401
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from _tiny_hrpro import tiny_hrpro

C, D = 3, 16
# (snippet, class) points of the two videos; lengths 20 and 13
POINTS = (((3, 0), (12, 1)), ((6, 2),))
LENGTHS = (20, 13)


def _model(**kw):
    return tiny_hrpro('seeded', **kw).eval()


def _sample(name, T, points, seconds=0.64):
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


def _batch(model):
    g = torch.Generator().manual_seed(1)
    feats = [torch.randn(T, D, generator=g) for T in LENGTHS]
    samples = [_sample(f'v{i}', T, pts)
               for i, (T, pts) in enumerate(zip(LENGTHS, POINTS))]
    data = model.data_preprocessor(dict(inputs=feats, data_samples=samples),
                                   False)
    return data['inputs'], data['data_samples']


def _outputs(model, inputs, samples):
    """The stage-1 outputs the model computes for this batch."""
    mask = model.masks_for(inputs, samples)
    with torch.no_grad():
        return model.extract(inputs, mask), mask


def _spy(monkeypatch, module, calls):
    """Record the arguments and the result of every call of ``module``."""
    original = module.forward

    def forward(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append(dict(args=args, kwargs=kwargs, result=result))
        return result

    monkeypatch.setattr(module, 'forward', forward)


def test_focal_loss_reads_fused_cas_and_background(monkeypatch):
    model = _model()
    inputs, samples = _batch(model)
    out, mask = _outputs(model, inputs, samples)
    # the wire is only testable where fused_cas and cas differ
    assert (out['fused_cas'] - out['cas']).abs().max() > 0.05
    calls = []
    _spy(monkeypatch, model.focal_loss, calls)
    losses = model(inputs, samples, mode='loss')
    assert len(calls) == 1
    scores, point_labels, bg_seeds, mask_in = calls[0]['args']
    assert scores.shape == (2, max(LENGTHS), C + 1)
    torch.testing.assert_close(scores[..., :C], out['fused_cas'],
                               rtol=0, atol=1e-6)
    torch.testing.assert_close(scores[..., C], out['bg'], rtol=0, atol=1e-6)
    assert torch.equal(mask_in, mask)
    # the point labels: one-hot rows at the point snippets, nothing else
    expected = torch.zeros(2, max(LENGTHS), C)
    for b, pts in enumerate(POINTS):
        for t, c in pts:
            expected[b, t, c] = 1
    assert torch.equal(point_labels.float(), expected)
    assert bg_seeds.any(1).all()  # both videos have background seeds
    # the losses returned are the focal loss's own
    for key in ('loss_action', 'loss_background'):
        assert torch.equal(losses[key], calls[0]['result'][key])
    # and they depend on the fusion: cas in place of fused_cas gives
    # another value (so a value check would catch the swap too)
    wrong = model.focal_loss.__class__.forward(
        model.focal_loss, torch.cat([out['cas'], out['bg'][..., None]], -1),
        point_labels, bg_seeds, mask)
    assert not torch.allclose(wrong['loss_action'], losses['loss_action'])


def test_contrastive_loss_reads_the_embedded_features(monkeypatch):
    model = _model()
    inputs, samples = _batch(model)
    out, mask = _outputs(model, inputs, samples)
    assert out['embedded'].shape == inputs.shape  # raw features would fit
    assert not torch.allclose(out['embedded'], inputs, atol=0.1)
    calls = []
    _spy(monkeypatch, model.contrastive_loss, calls)
    losses = model(inputs, samples, mode='loss')
    assert len(calls) == 1
    embedded, prototypes, act_labels, bg_seeds, video_labels, mask_in = \
        calls[0]['args']
    torch.testing.assert_close(embedded, out['embedded'], rtol=0, atol=1e-6)
    # gradients reach the network through it
    assert embedded.requires_grad
    assert prototypes is model.memory.prototypes
    assert torch.equal(mask_in, mask)
    assert torch.equal(video_labels, torch.tensor(
        [[1., 1., 0.], [0., 0., 1.]]))
    # every point snippet is an action seed of its class
    for b, pts in enumerate(POINTS):
        for t, c in pts:
            assert act_labels[b, t, c] == 1
    assert torch.equal(losses['loss_contrastive'], calls[0]['result'])
    assert float(losses['loss_contrastive'].detach()) > 0
    # the raw features in its place give another loss
    wrong = model.contrastive_loss.__class__.forward(
        model.contrastive_loss, inputs, prototypes, act_labels, bg_seeds,
        video_labels, mask)
    assert not torch.allclose(wrong, losses['loss_contrastive'])


def test_memory_update_reads_the_embedded_features(monkeypatch):
    """In training the memory moves towards the embedded features of the
    action seeds, the same tensor (detached) the contrastive loss reads."""
    model = _model().train()
    inputs, samples = _batch(model)
    contrastive, seen = [], []
    _spy(monkeypatch, model.contrastive_loss, contrastive)
    original = model.memory.update

    def update(embedded, act_labels, mask_):
        seen.append((embedded, act_labels))
        return original(embedded, act_labels, mask_)

    monkeypatch.setattr(model.memory, 'update', update)
    model(inputs, samples, mode='loss')
    assert len(seen) == 1 and len(contrastive) == 1
    embedded, act_labels = seen[0]
    assert not embedded.requires_grad
    assert torch.equal(embedded, contrastive[0]['args'][0].detach())
    assert torch.equal(act_labels, contrastive[0]['args'][2])
    assert embedded.shape == inputs.shape
    assert not torch.allclose(embedded, inputs, atol=0.1)


def test_snippet_head_reads_the_rab_output(monkeypatch):
    model = _model()
    inputs, samples = _batch(model)
    mask = model.masks_for(inputs, samples)
    neck_calls, head_calls = [], []
    _spy(monkeypatch, model.neck, neck_calls)
    _spy(monkeypatch, model.head, head_calls)
    with torch.no_grad():
        model.extract(inputs, mask)
    assert len(neck_calls) == 1 and len(head_calls) == 1
    x_in, mask_in, prototypes = neck_calls[0]['args']
    # the neck gets the (masked) features, the mask and the prototypes
    assert torch.equal(x_in, inputs * mask[..., None])
    assert torch.equal(mask_in, mask)
    assert prototypes is model.memory.prototypes
    # the head gets what the neck returned, which is not the input
    neck_out = neck_calls[0]['result']
    assert head_calls[0]['args'][0] is neck_out
    assert not torch.allclose(neck_out, x_in, atol=0.1)


@pytest.mark.parametrize('mode', ['loss', 'predict'])
def test_rab_runs_in_training_and_inference(monkeypatch, mode):
    model = _model()
    inputs, samples = _batch(model)
    neck_calls = []
    _spy(monkeypatch, model.neck, neck_calls)
    with torch.no_grad():
        model(inputs, samples, mode=mode)
    assert len(neck_calls) == 1


def test_rab_output_changes_the_predictions():
    """The same weights without the neck predict other video scores: the
    neck's output is what the head classifies."""
    model = _model()
    inputs, samples = _batch(model)
    out, mask = _outputs(model, inputs, samples)
    with torch.no_grad():
        no_rab = model.head(inputs * mask[..., None], mask)
    assert not torch.allclose(out['video_scores'], no_rab['video_scores'],
                              atol=1e-3)


def _constant_p_comp(model, value):
    """Make the instance head's completeness ``value`` for every proposal
    and its offsets 0 (the refined box is the original one)."""
    last = model.instance_head.score_head[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(torch.logit(torch.tensor(value)).item())
        for branch in (model.instance_head.start_reg,
                       model.instance_head.end_reg):
            branch[-1].weight.zero_()
            branch[-1].bias.zero_()


def _nms_inputs(model, monkeypatch, inputs, samples):
    """(segments, scores, labels, batch_idx) given to soft-NMS."""
    calls = []
    _spy(monkeypatch, model.post_processor, calls)
    with torch.no_grad():
        model(inputs, samples, mode='predict')
    assert len(calls) == 1
    return calls[0]['args']


@pytest.mark.parametrize('value', [0.25, 0.8])
def test_inference_adds_the_instance_score_to_the_oic(monkeypatch, value):
    model = _model()
    inputs, samples = _batch(model)
    seg1, score1, label1, batch1 = _nms_inputs(model, monkeypatch, inputs,
                                               samples)
    n = score1.numel()
    assert n > 0
    model.switch_to_stage2()
    model.eval()
    _constant_p_comp(model, value)
    seg2, score2, label2, batch2 = _nms_inputs(model, monkeypatch, inputs,
                                               samples)
    # rows 0..n-1: the candidates, scored OIC + p_comp; then one refined
    # copy of each candidate (offsets 0: the same box), scored the same
    assert score2.numel() == 2 * n
    for part in (slice(0, n), slice(n, 2 * n)):
        torch.testing.assert_close(seg2[part], seg1, rtol=0, atol=1e-5)
        assert torch.equal(label2[part], label1)
        assert torch.equal(batch2[part], batch1)
        torch.testing.assert_close(score2[part], score1 + value, rtol=0,
                                   atol=1e-5)


def test_use_score_false_scores_by_the_oic_alone(monkeypatch):
    model = _model(stage2_cfg=dict(use_score=False, use_regression=False))
    inputs, samples = _batch(model)
    _, score1, _, _ = _nms_inputs(model, monkeypatch, inputs, samples)
    model.switch_to_stage2()
    model.eval()
    _constant_p_comp(model, 0.6)
    _, score2, _, _ = _nms_inputs(model, monkeypatch, inputs, samples)
    torch.testing.assert_close(score2, score1, rtol=0, atol=1e-6)


def test_final_scores_follow_the_instance_score(monkeypatch):
    """End of predict: the best detection of each (video, class) keeps its
    fused score through soft-NMS, so it is OIC + p_comp."""
    model = _model()
    inputs, samples = _batch(model)
    with torch.no_grad():
        s1 = model(inputs, samples, mode='predict')
    model.switch_to_stage2()
    model.eval()
    _constant_p_comp(model, 0.5)
    inputs, samples = _batch(model)
    with torch.no_grad():
        s2 = model(inputs, samples, mode='predict')
    for a, b in zip(s1, s2):
        pa, pb = a.pred_instances, b.pred_instances
        assert len(pa) > 0
        for c in pa.labels.unique():
            top_a = pa.scores[pa.labels == c].max()
            top_b = pb.scores[pb.labels == c].max()
            torch.testing.assert_close(top_b, top_a + 0.5, rtol=0, atol=1e-5)
