"""Tests of the stage-2 instance head, refinement and fusion."""
import math

import pytest
import torch
from mmaction.registry import MODELS

import hrpro_plugin  # noqa: F401  (registers the parts)
from hrpro_plugin.models.instance_level import instance_head as ih
from hrpro_plugin.models.instance_level.instance_head import (InstanceHead,
                                                     fuse_predictions,
                                                     refine_and_clip)


def _small(D=4, **kw):
    torch.manual_seed(0)
    return InstanceHead(D, hidden_score=(16, 8), hidden_reg=8, **kw).eval()


def _const_reg(head, ds, de):
    """Make the regression branches output constants."""
    with torch.no_grad():
        for mod, val in ((head.start_reg, ds), (head.end_reg, de)):
            mod[-1].weight.zero_()
            mod[-1].bias.fill_(val)


def test_layout_and_shapes():
    head = InstanceHead(6)
    assert head.num_ctx_bins == 2
    lin = [m for m in head.score_head if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in lin] == \
        [(18, 2048), (2048, 1024), (1024, 1)]
    assert isinstance(head.score_head[2], torch.nn.Dropout)
    assert head.score_head[2].p == 0.7
    for reg in (head.start_reg, head.end_reg):
        lin = [m for m in reg if isinstance(m, torch.nn.Linear)]
        assert [(m.in_features, m.out_features) for m in lin] == \
            [(6, 1024), (1024, 1)]
    head = _small()
    out = head(torch.randn(2, 10, 4), torch.ones(2, 10, dtype=torch.bool),
               torch.tensor([0, 1, 1]), torch.tensor([1.0, 2.0, 0.0]),
               torch.tensor([4.0, 9.0, 3.0]))
    assert set(out) == {'p_comp', 'd_start', 'd_end', 'refined_start',
                        'refined_end'}
    assert all(v.shape == (3,) for v in out.values())
    assert bool(((out['p_comp'] > 0) & (out['p_comp'] < 1)).all())
    built = MODELS.build(dict(type='InstanceHead', in_channels=4))
    assert isinstance(built, InstanceHead)
    with pytest.raises(ValueError):
        InstanceHead(4, num_bins=3, extend_ratio=0.05)


def test_widths_sized_from_the_features_as_the_reference():
    # hidden_score=None / hidden_reg=None: (D, D/2) and D/2, as the
    # reference's Linear(3D, D) -> Conv1d(D, D/2) -> Conv1d(D/2, 1) head
    head = InstanceHead(256, hidden_score=None, hidden_reg=None)
    lin = [m for m in head.score_head if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in lin] == \
        [(768, 256), (256, 128), (128, 1)]
    assert head.score_head[2].p == 0.7
    for reg in (head.start_reg, head.end_reg):
        lin = [m for m in reg if isinstance(m, torch.nn.Linear)]
        assert [(m.in_features, m.out_features) for m in lin] == \
            [(256, 128), (128, 1)]
    # at D = 2048 the default and the reference's sizing agree
    a = InstanceHead(2048)
    b = InstanceHead(2048, hidden_score=None, hidden_reg=None)
    assert {k: v.shape for k, v in a.state_dict().items()} == \
        {k: v.shape for k, v in b.state_dict().items()}


def test_bin_pooling_feeds_the_right_branches(monkeypatch):
    seen = {}

    def fake_roi(features, mask, batch_idx, start, end, num_bins, sr):
        seen['start'], seen['end'] = start.clone(), end.clone()
        # D = 1, bin j holds j; a spike of 100 in bin 5 (inside)
        bins = torch.arange(num_bins, dtype=features.dtype)
        bins = bins.repeat(batch_idx.numel(), 1)[..., None]
        bins[:, 5] = 100.0
        return bins

    monkeypatch.setattr(ih, 'roi_align_1d', fake_roi)
    head = _small(D=1)
    inputs = {}
    head.score_head[0].register_forward_hook(
        lambda m, i, o: inputs.__setitem__('score', i[0].clone()))
    head.start_reg[0].register_forward_hook(
        lambda m, i, o: inputs.__setitem__('start', i[0].clone()))
    head.end_reg[0].register_forward_hook(
        lambda m, i, o: inputs.__setitem__('end', i[0].clone()))
    head(torch.zeros(1, 10, 1), torch.ones(1, 10, dtype=torch.bool),
         torch.tensor([0]), torch.tensor([4.0]), torch.tensor([8.0]))
    # the extension by 0.25 x 4 on both sides reached RoI-align
    assert seen['start'].tolist() == [3.0] and seen['end'].tolist() == [9.0]
    # start ctx = max(bins 0-1) = 1, inside = max(bins 2-9) = 100,
    # end ctx = max(bins 10-11) = 11
    assert inputs['start'].tolist() == [[1.0]]
    assert inputs['end'].tolist() == [[11.0]]
    assert inputs['score'].tolist() == [[99.0, 100.0, 89.0]]


def test_score_inside_mean_tells_a_too_long_box_from_one_that_fits():
    # D = 1: 1 on snippets 4-7, 0 elsewhere (16 snippets)
    feats = torch.zeros(1, 16, 1)
    feats[0, 4:8] = 1.0
    mask = torch.ones(1, 16, dtype=torch.bool)
    b = torch.tensor([0, 0])
    start, end = torch.tensor([4.0, 2.0]), torch.tensor([8.0, 10.0])
    head = _small(D=1, score_inside_mean=True)
    f_s, f_in, f_e, f_mean = head.pool(feats, mask, b, start, end)
    # [4, 8]: extended [3, 9], 12 bins of 0.5, one sample a bin; the inside
    # bins sample 4.25 .. 7.75: 0.75, 1 x 6, 0.75 (linear between snippet
    # centres). [2, 10]: extended [0, 12], bins of 1, samples at snippet
    # centres 2.5 .. 9.5: 0, 0, 1, 1, 1, 1, 0, 0.
    assert f_in.flatten().tolist() == [1.0, 1.0]          # max: the same
    assert f_mean.flatten().tolist() == pytest.approx([0.9375, 0.5])
    lin = head.score_head[0]
    assert lin.in_features == 4
    seen = {}
    lin.register_forward_hook(lambda m, i, o: seen.__setitem__('x', i[0]))
    head(feats, mask, b, start, end)
    assert seen['x'][:, 3].tolist() == pytest.approx([0.9375, 0.5])
    head.score(feats, mask, b, start, end)
    assert seen['x'].shape == (2, 4)
    # the method's head: three pooled features, a 3D input
    plain = _small(D=1)
    assert len(plain.pool(feats, mask, b, start, end)) == 3
    assert plain.score_head[0].in_features == 3


def test_regression_refinement():
    head = _small()
    _const_reg(head, 0.1, -0.25)
    out = head(torch.randn(1, 12, 4), torch.ones(1, 12, dtype=torch.bool),
               torch.tensor([0, 0]), torch.tensor([2.0, 0.0]),
               torch.tensor([6.0, 8.0]))
    assert out['d_start'].tolist() == pytest.approx([0.1, 0.1])
    assert out['d_end'].tolist() == pytest.approx([-0.25, -0.25])
    # s' = s + ds * w, e' = e + de * w with w = e - s
    assert out['refined_start'].tolist() == pytest.approx([2.4, 0.8])
    assert out['refined_end'].tolist() == pytest.approx([5.0, 6.0])


def test_refine_and_clip():
    s = torch.tensor([2.0, 2.0, 2.0, 5.0])
    e = torch.tensor([6.0, 6.0, 6.0, 6.0])
    ds = torch.tensor([-1.0, 0.25, 2.0, 5.0])
    de = torch.tensor([0.5, -0.75, 0.0, 5.0])
    rs, re, valid = refine_and_clip(s, e, ds, de, torch.tensor([7.0] * 4))
    # 0: s' = -2 -> 0, e' = 8 -> 7 (valid); 1: s' = 3, e' = 3 (empty)
    # 2: s' = 10 -> 7 > e' = 6 (invalid); 3: both beyond T -> 7, 7 (invalid)
    assert rs.tolist() == [0.0, 3.0, 7.0, 7.0]
    assert re.tolist() == [7.0, 3.0, 6.0, 7.0]
    assert valid.tolist() == [True, False, False, False]


def test_fuse_predictions():
    b = torch.tensor([0, 0, 1])
    s, e = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([4.0, 5.0, 6.0])
    lab = torch.tensor([2, 0, 1])
    oic = torch.tensor([0.5, 0.1, 0.2])
    pc = torch.tensor([0.3, 0.4, 0.9])
    rs, re = torch.tensor([1.5, 2.5, 3.5]), torch.tensor([4.5, 5.5, 6.5])
    valid = torch.tensor([True, False, True])
    pr_all = torch.tensor([0.6, 0.7, 0.8])
    out = fuse_predictions(b, s, e, lab, oic, pc, rs, re, valid, pr_all)
    assert out['batch_idx'].tolist() == [0, 0, 1, 0, 1]
    assert out['start'].tolist() == [1.0, 2.0, 3.0, 1.5, 3.5]
    assert out['end'].tolist() == [4.0, 5.0, 6.0, 4.5, 6.5]
    assert out['label'].tolist() == [2, 0, 1, 2, 1]
    assert out['score'].tolist() == pytest.approx([0.8, 0.5, 1.1, 1.1, 1.0])
    assert out['refined'].tolist() == [False] * 3 + [True] * 2
    assert out['source'].tolist() == [0, 1, 2, 0, 2]
    # the refined scores may be given for the valid boxes only
    out2 = fuse_predictions(b, s, e, lab, oic, pc, rs, re, valid,
                            torch.tensor([0.6, 0.8]))
    assert torch.allclose(out2['score'], out['score'])
    with pytest.raises(ValueError):
        fuse_predictions(b, s, e, lab, oic, pc, rs, re, valid,
                         torch.tensor([0.1]))


def _sig(x):
    return 1.0 / (1.0 + math.exp(-x))


def _transparent_head(monkeypatch, d_start, d_end):
    """D = 1 head whose numbers can be followed by hand: RoI-align replaced
    by "every bin holds the extended end of the box" (so start context =
    inside = end context = ``ee = e + 0.25 (e - s)``), the score MLP made
    the identity on the inside channel with bias -5 (``p_comp =
    sigmoid(ee - 5)``) and the regression branches constant."""
    def fake_roi(features, mask, batch_idx, start, end, num_bins, sr):
        return end[:, None, None].expand(-1, num_bins, 1).clone()

    monkeypatch.setattr(ih, 'roi_align_1d', fake_roi)
    head = InstanceHead(1, hidden_score=(1, 1), hidden_reg=1,
                        dropout=0.0).eval()
    lin = [m for m in head.score_head if isinstance(m, torch.nn.Linear)]
    assert len(lin) == 3
    with torch.no_grad():
        lin[0].weight.copy_(torch.tensor([[0.0, 1.0, 0.0]]))
        lin[0].bias.zero_()
        lin[1].weight.fill_(1.0)
        lin[1].bias.zero_()
        lin[2].weight.fill_(1.0)
        lin[2].bias.fill_(-5.0)
    _const_reg(head, d_start, d_end)
    return head


# video 0 valid for 10 snippets, video 1 for 6 (padded to 10)
_MASK = torch.arange(10)[None] < torch.tensor([10, 6])[:, None]
_CAND = dict(batch_idx=torch.tensor([0, 1, 1]),
             start=torch.tensor([1.0, 0.0, 4.0]),
             end=torch.tensor([5.0, 2.0, 6.0]),
             label=torch.tensor([0, 1, 2]),
             score=torch.tensor([0.2, 0.3, -0.1]))        # the OIC


def test_predict_known_answer(monkeypatch):
    """Offsets 0.5 / 0.5 (each box moves right by half its length):
      v0 [1, 5]: ee = 5 + 1   = 6    p = s(1);    refined [3, 7], ee = 8
                 p = s(3)
      v1 [0, 2]: ee = 2 + 0.5 = 2.5  p = s(-2.5); refined [1, 3], ee = 3.5
                 p = s(-1.5)
      v1 [4, 6]: ee = 6.5            p = s(1.5);  refined [5, 7] clipped
                 to video 1's 6 snippets: [5, 6], ee = 6.25, p = s(1.25)
                 (the unclipped box would read ee = 7.5)
    rows: the three originals, then the three refined (all valid), each
    scored OIC + p_comp of its own box."""
    head = _transparent_head(monkeypatch, 0.5, 0.5)
    feats = torch.zeros(2, 10, 1)
    out = head.predict(feats, _MASK, _CAND)
    assert out['batch_idx'].tolist() == [0, 1, 1, 0, 1, 1]
    assert out['start'].tolist() == [1.0, 0.0, 4.0, 3.0, 1.0, 5.0]
    assert out['end'].tolist() == [5.0, 2.0, 6.0, 7.0, 3.0, 6.0]
    assert out['label'].tolist() == [0, 1, 2, 0, 1, 2]
    assert out['refined'].tolist() == [False] * 3 + [True] * 3
    assert out['source'].tolist() == [0, 1, 2, 0, 1, 2]
    assert out['score'].tolist() == pytest.approx(
        [0.2 + _sig(1.0), 0.3 + _sig(-2.5), -0.1 + _sig(1.5),
         0.2 + _sig(3.0), 0.3 + _sig(-1.5), -0.1 + _sig(1.25)], abs=1e-6)
    # fuse: the same rows as a (start, end, label, batch_idx, score) tuple
    start, end, label, batch_idx, score = head.fuse(feats, _MASK, _CAND)
    assert start.tolist() == [1.0, 0.0, 4.0, 3.0, 1.0, 5.0]
    assert end.tolist() == [5.0, 2.0, 6.0, 7.0, 3.0, 6.0]
    assert label.tolist() == [0, 1, 2, 0, 1, 2]
    assert batch_idx.tolist() == [0, 1, 1, 0, 1, 1]
    assert score.tolist() == pytest.approx(
        [0.2 + _sig(1.0), 0.3 + _sig(-2.5), -0.1 + _sig(1.5),
         0.2 + _sig(3.0), 0.3 + _sig(-1.5), -0.1 + _sig(1.25)], abs=1e-6)
    # an explicit video_len overrides the mask: video 1 as 10 long, so
    # [5, 7] stays unclipped (ee = 7 + 0.5 = 7.5)
    out = head.predict(feats, _MASK, _CAND, video_len=torch.tensor([10, 10]))
    assert out['end'].tolist() == [5.0, 2.0, 6.0, 7.0, 3.0, 7.0]
    assert out['score'][5].item() == pytest.approx(-0.1 + _sig(2.5),
                                                   abs=1e-6)


def test_predict_switches_known_answer(monkeypatch):
    head = _transparent_head(monkeypatch, 0.5, 0.5)
    feats = torch.zeros(2, 10, 1)
    # use_score=False: the OIC alone, for originals and refined boxes
    out = head.predict(feats, _MASK, _CAND, use_score=False)
    assert out['start'].tolist() == [1.0, 0.0, 4.0, 3.0, 1.0, 5.0]
    assert out['score'].tolist() == pytest.approx(
        [0.2, 0.3, -0.1, 0.2, 0.3, -0.1], abs=1e-7)
    # use_regression=False: the originals only, scored OIC + p_comp
    out = head.predict(feats, _MASK, _CAND, use_regression=False)
    assert out['start'].tolist() == [1.0, 0.0, 4.0]
    assert out['refined'].tolist() == [False] * 3
    assert out['score'].tolist() == pytest.approx(
        [0.2 + _sig(1.0), 0.3 + _sig(-2.5), -0.1 + _sig(1.5)], abs=1e-6)


def test_predict_drops_empty_refined_boxes(monkeypatch):
    """Offsets 1.5 / 0: s' = s + 1.5 (e - s) lies beyond e for every box:
    v0 [1, 5] -> s' = 7 > e' = 5; v1 [0, 2] -> 3 > 2; v1 [4, 6] -> 7,
    clipped to 6 = e' (empty). No refined row: the originals only."""
    head = _transparent_head(monkeypatch, 1.5, 0.0)
    out = head.predict(torch.zeros(2, 10, 1), _MASK, _CAND)
    assert out['start'].tolist() == [1.0, 0.0, 4.0]
    assert out['end'].tolist() == [5.0, 2.0, 6.0]
    assert out['refined'].tolist() == [False] * 3
    assert out['score'].tolist() == pytest.approx(
        [0.2 + _sig(1.0), 0.3 + _sig(-2.5), -0.1 + _sig(1.5)], abs=1e-6)


def test_predict_box_emptied_by_the_clip_is_dropped(monkeypatch):
    """Offsets 1.5 / 1.5 (each box moves right by 1.5 lengths):
      v0 [1, 5] -> [7, 11], clipped to video 0's 10: [7, 10], ee = 10.75,
         p = s(5.75)
      v1 [0, 2] -> [3, 5], inside video 1's 6: ee = 5.5, p = s(0.5)
      v1 [4, 6] -> [7, 9]: both ends clipped to 6: [6, 6], empty -> dropped
         (unclipped it would be a valid box)"""
    head = _transparent_head(monkeypatch, 1.5, 1.5)
    out = head.predict(torch.zeros(2, 10, 1), _MASK, _CAND)
    assert out['source'].tolist() == [0, 1, 2, 0, 1]
    assert out['start'].tolist() == [1.0, 0.0, 4.0, 7.0, 3.0]
    assert out['end'].tolist() == [5.0, 2.0, 6.0, 10.0, 5.0]
    assert out['label'].tolist() == [0, 1, 2, 0, 1]
    assert out['score'].tolist() == pytest.approx(
        [0.2 + _sig(1.0), 0.3 + _sig(-2.5), -0.1 + _sig(1.5),
         0.2 + _sig(5.75), 0.3 + _sig(0.5)], abs=1e-6)


def test_padding_invariance():
    head = _small()
    g = torch.Generator().manual_seed(1)
    feats = torch.randn(2, 9, 4, generator=g)
    mask = torch.ones(2, 9, dtype=torch.bool)
    mask[1, 5:] = False
    b = torch.tensor([1, 1])
    s, e = torch.tensor([0.0, 3.0]), torch.tensor([2.0, 5.0])
    out = head(feats, mask, b, s, e)
    alone = head(feats[1:, :5], mask[1:, :5], torch.tensor([0, 0]), s, e)
    for k in out:
        assert torch.allclose(out[k], alone[k], atol=1e-6)


def test_unique_boxes_by_hand():
    b = torch.tensor([0, 1, 0, 0, 1])
    s = torch.tensor([1.0, 1.0, 1.0, 2.0, 1.0])
    e = torch.tensor([3.0, 3.0, 3.0, 3.0, 3.0])
    first, inv = ih.unique_boxes(b, s, e)
    # distinct boxes: (0, 1, 3) at 0, (0, 2, 3) at 3, (1, 1, 3) at 1
    assert sorted(first.tolist()) == [0, 1, 3]
    assert first[inv].tolist() == [0, 1, 0, 3, 1]
    empty = ih.unique_boxes(b[:0], s[:0], e[:0])
    assert empty[0].numel() == 0 and empty[1].numel() == 0


def test_predict_repeated_boxes_get_the_results_of_one():
    """Candidates of several classes share boxes; each distinct box is
    scored once, and every copy gets exactly its scores and refinement."""
    head = _small()
    feats = torch.randn(2, 10, 4)
    mask = torch.ones(2, 10, dtype=torch.bool)
    mask[1, 7:] = False
    base = dict(batch_idx=torch.tensor([0, 1]), start=torch.tensor([1.0, 2.0]),
                end=torch.tensor([6.0, 5.0]), label=torch.tensor([0, 1]),
                score=torch.tensor([0.2, 0.3]))
    rep = [0, 1, 0, 1, 0]
    cand = {k: v[rep] for k, v in base.items()}
    cand['label'] = torch.tensor([0, 1, 2, 3, 4])
    one = head.predict(feats, mask, base)
    many = head.predict(feats, mask, cand)
    assert many['start'].numel() == 10          # all five refined are valid
    # rows 0..4 the originals, 5..9 the refined boxes, in candidate order
    for part in (0, 1):
        got = slice(5 * part, 5 * part + 5)
        want = torch.tensor(rep) + 2 * part
        for key in ('start', 'end', 'score'):
            assert torch.equal(many[key][got], one[key][want])
