"""HRPro.snippet_pass: the one stage-1 pass (mask, network, point labels,
pseudo snippets, candidates) shared by training, inference, the hooks and
tools/visualize.py."""
import pytest
import torch
from mmengine.structures import InstanceData

import hrpro_plugin  # noqa: F401
from hrpro_plugin.models.localizers.snippet_pass import SnippetPass
from hrpro_plugin.models.proposals.candidates import generate_candidates
from hrpro_plugin.models.snippet_level.pseudo_snippets import \
    mine_pseudo_snippets
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from _tiny_hrpro import tiny_hrpro

C, D = 3, 16
LENGTHS = (8, 5)                    # padded to 8
POINTS = (((3, 0),), ((1, 1),))     # (snippet, class) of each video


def _model(**kw):
    return tiny_hrpro('seeded', **kw).eval()


def _sample(name, T, points, seconds=0.5):
    ds = ActionDataSample()
    ds.set_metainfo(dict(video_name=name, num_snippets=T,
                         snippet_seconds=seconds, duration=T * seconds))
    ds.gt_instances = InstanceData(segments=torch.tensor([[0.5, 2.0]]),
                                   labels=torch.tensor([0]))
    ds.gt_points = InstanceData(
        snippets=torch.tensor([p[0] for p in points], dtype=torch.long),
        labels=torch.tensor([p[1] for p in points], dtype=torch.long))
    label = torch.zeros(C)
    label[[p[1] for p in points]] = 1
    ds.set_field(label, 'gt_video_label')
    return ds


def _batch(model, lengths=LENGTHS, points=POINTS, seed=1):
    g = torch.Generator().manual_seed(seed)
    feats = [torch.randn(T, D, generator=g) for T in lengths]
    samples = [_sample(f'v{i}', T, p)
               for i, (T, p) in enumerate(zip(lengths, points))]
    data = model.data_preprocessor(dict(inputs=feats, data_samples=samples),
                                   False)
    return data['inputs'], data['data_samples']


# background probability of the two videos (padding of video 1: 0.99, which
# would make seeds there if the mask were ignored)
BG = torch.tensor([[.99, .99, .5, .05, .02, .5, .97, .99],
                   [.2, .03, .04, .96, .3, .99, .99, .99]])


def _fixed_head(model, monkeypatch):
    """Make the snippet head return known outputs (bg = BG; the video
    scores of video 0 keep classes 0 and 1, those of video 1 class 1)."""
    cas = torch.zeros(2, 8, C)
    cas[0, 2:6, 0] = cas[0, 2:6, 1] = torch.tensor([.2, .9, .9, .2])
    cas[1, 0:4, 1] = torch.tensor([.1, .8, .8, .2])
    vs = torch.tensor([[.9, .6, .1], [.1, .7, .3]])

    def forward(x, mask):
        attn = (1 - BG).masked_fill(~mask, 0)
        return dict(embedded=x * 2, cas=cas, bg=BG, attn=attn,
                    fused_cas=cas * attn[..., None], video_scores=vs,
                    mask=mask)

    monkeypatch.setattr(model.head, 'forward', forward)


def test_mask_outputs_and_point_labels_of_a_padded_batch():
    model = _model()
    inputs, samples = _batch(model)
    assert inputs.shape == (2, 8, D)
    with torch.no_grad():
        sp = model.snippet_pass(inputs, samples, points=True)
    assert isinstance(sp, SnippetPass)
    assert sp.mask.tolist() == [[True] * 8, [True] * 5 + [False] * 3]
    assert sp.lengths.tolist() == [8, 5]
    shapes = {k: tuple(v.shape) for k, v in sp.outputs.items()}
    assert shapes['fused_cas'] == shapes['cas'] == (2, 8, C)
    assert shapes['attn'] == shapes['bg'] == (2, 8)
    assert shapes['video_scores'] == (2, C)
    assert shapes['embedded'] == (2, 8, D)
    # the outputs are extract's on the mask of num_snippets
    ref = model.extract(inputs, model.masks_for(inputs, samples))
    for key in ('cas', 'fused_cas', 'attn', 'bg', 'video_scores',
                'embedded'):
        assert torch.equal(sp.outputs[key], ref[key]), key
    # padded snippets carry nothing
    assert float(sp.outputs['attn'][1, 5:].abs().sum()) == 0
    assert float(sp.outputs['embedded'][1, 5:].abs().sum()) == 0
    expected = torch.zeros(2, 8, C)
    expected[0, 3, 0] = expected[1, 1, 1] = 1
    assert torch.equal(sp.point_labels, expected)
    # nothing computed that was not asked for
    assert sp.act_labels is None and sp.bg_seeds is None
    assert sp.candidates is None
    # forward(mode='tensor') is the same pass
    with torch.no_grad():
        tensor = model(inputs, samples, mode='tensor')
    assert torch.equal(tensor['fused_cas'], sp.outputs['fused_cas'])


def test_pseudo_snippets_known_answer(monkeypatch):
    model = _model(pseudo_cfg=dict(bg_thresh=0.95, act_thresh=0.1))
    _fixed_head(model, monkeypatch)
    inputs, samples = _batch(model)
    with torch.no_grad():
        sp = model.snippet_pass(inputs, samples, pseudo=True)
    # video 0, point at 3: background from 0 to the last high snippet
    # before it (1) and from the first high one after it (6) to the end;
    # the action spreads right over b=0.02, stops at b=0.5 on both sides.
    # video 1 (5 snippets), point at 1: before it no high snippet -> up to
    # the argmax (0); after it from the first high (3) to the end (4);
    # action spreads to 2 (b=0.04), stops at the seed 3. Padding: nothing.
    assert sp.bg_seeds.int().tolist() == [[1, 1, 0, 0, 0, 0, 1, 1],
                                          [1, 0, 0, 1, 1, 0, 0, 0]]
    act = torch.zeros(2, 8, C)
    act[0, 3:5, 0] = 1
    act[1, 1:3, 1] = 1
    assert torch.equal(sp.act_labels, act)
    assert sp.point_labels is not None      # pseudo implies points
    ref = mine_pseudo_snippets(sp.point_labels, BG, sp.mask,
                               **model.pseudo_cfg)
    assert torch.equal(sp.act_labels, ref[0])
    assert torch.equal(sp.bg_seeds, ref[1])


def test_pseudo_cfg_reaches_the_mining(monkeypatch):
    # act_thresh 0.6: the action of video 0 spreads over b=0.5 to 2 and 5
    model = _model(pseudo_cfg=dict(bg_thresh=0.95, act_thresh=0.6))
    _fixed_head(model, monkeypatch)
    inputs, samples = _batch(model)
    with torch.no_grad():
        sp = model.snippet_pass(inputs, samples, pseudo=True)
    assert sp.act_labels[0, :, 0].int().tolist() == [0, 0, 1, 1, 1, 1, 0, 0]


@pytest.mark.parametrize('proposal_cfg', [None, dict(outer_ratio=0.5,
                                                     cas_thresholds=(0.2,),
                                                     class_thresh=0.8)])
def test_candidates_are_generate_candidates_of_the_outputs(proposal_cfg):
    model = _model(proposal_cfg=proposal_cfg)
    inputs, samples = _batch(model, lengths=(30, 17),
                             points=(((3, 0), (20, 1)), ((6, 2),)))
    with torch.no_grad():
        sp = model.snippet_pass(inputs, samples, candidates=True)
    out = sp.outputs
    ref = generate_candidates(out['fused_cas'], out['attn'],
                              out['video_scores'], sp.mask,
                              **(proposal_cfg or {}))
    assert sp.candidates['score'].numel() > 0
    assert set(sp.candidates) == set(ref)
    for key in ref:
        assert torch.equal(sp.candidates[key], ref[key]), key
    # no candidate reaches into the padding of the short video
    short = sp.candidates['batch_idx'] == 1
    assert short.any() and float(sp.candidates['end'][short].max()) <= 17
    assert sp.act_labels is None and sp.point_labels is None


def test_candidates_known_answer_and_not_capped(monkeypatch):
    # the cap is inference's (predict_from_pass), not the pass's
    model = _model(test_cfg=dict(max_candidates=1),
                   proposal_cfg=dict(cas_thresholds=(0.5,),
                                     attn_thresholds=(2.0,)))
    _fixed_head(model, monkeypatch)
    inputs, samples = _batch(model)
    with torch.no_grad():
        sp = model.snippet_pass(inputs, samples, candidates=True)
    cand = sp.candidates
    # video 0, classes 0 and 1: fused cas (cas x attn) is .1 .855 .882 .1
    # at snippets 2..5; upsampled x2 it is >= 0.5 at indices 6, 7, 8 only
    # (.4775 at 5, .491 at 9): one run [6, 9) / 2 = [3, 4.5) per class.
    # Video 1, class 1: .08 .776 .768 .008 at 0..3, >= 0.5 at indices 2..4
    # -> [1, 2.5). The A branch's threshold 2 keeps nothing. Three
    # candidates although max_candidates=1: the pass does not cap.
    assert cand['batch_idx'].tolist() == [0, 0, 1]
    assert cand['label'].tolist() == [0, 1, 1]
    assert cand['start'].tolist() == [3.0, 3.0, 1.0]
    assert cand['end'].tolist() == [4.5, 4.5, 2.5]
    # inference caps them: one prediction a video at most
    with torch.no_grad():
        preds = model.predict_from_pass(sp, inputs, samples)
    assert [len(p.pred_instances) for p in preds] == [1, 1]


def test_gradients_reach_the_network_not_the_labels():
    model = _model().train()
    inputs, samples = _batch(model)
    sp = model.snippet_pass(inputs, samples, pseudo=True, candidates=True)
    assert sp.outputs['fused_cas'].requires_grad
    assert sp.outputs['embedded'].requires_grad
    assert not sp.act_labels.requires_grad
    assert not sp.candidates['score'].requires_grad


def test_without_data_samples_every_snippet_is_valid():
    model = _model()
    x = torch.randn(2, 6, D)
    with torch.no_grad():
        sp = model.snippet_pass(x)
    assert sp.mask.all() and sp.mask.shape == (2, 6)
    with pytest.raises(ValueError, match='data_samples'):
        model.snippet_pass(x, pseudo=True)


def test_video_cuts_to_the_valid_length(monkeypatch):
    model = _model()
    _fixed_head(model, monkeypatch)
    inputs, samples = _batch(model)
    with torch.no_grad():
        sp = model.snippet_pass(inputs, samples, pseudo=True)
    one = sp.video(1)
    assert one['fused_cas'].shape == (5, C) and one['attn'].shape == (5, )
    assert one['bg_seeds'].int().tolist() == [1, 0, 0, 1, 1]
    assert one['act_labels'].shape == (5, C)
    assert one['video_scores'].tolist() == pytest.approx([.1, .7, .3])
    assert torch.equal(one['bg'], BG[1, :5])


@pytest.mark.parametrize('stage', [1, 2])
def test_predict_is_predict_from_pass_of_one_pass(stage, monkeypatch):
    model = _model()
    if stage == 2:
        model.switch_to_stage2()
    inputs, samples = _batch(model, lengths=(30, 17),
                             points=(((3, 0), (20, 1)), ((6, 2),)))
    with torch.no_grad():
        direct = model(inputs, [s.clone() for s in samples], mode='predict')
        calls = []
        hook = model.neck.register_forward_hook(
            lambda *a: calls.append(1))
        sp = model.snippet_pass(inputs, samples, candidates=True)
        split = model.predict_from_pass(sp, inputs,
                                        [s.clone() for s in samples])
        hook.remove()
    assert len(calls) == 1        # the stage-2 head reuses the pass
    for a, b in zip(direct, split):
        assert len(a.pred_instances) > 0
        assert torch.equal(a.pred_instances.segments,
                           b.pred_instances.segments)
        assert torch.equal(a.pred_instances.scores, b.pred_instances.scores)
    with pytest.raises(ValueError, match='candidates=True'):
        model.predict_from_pass(model.snippet_pass(inputs, samples), inputs,
                                samples)
