"""Known-answer tests of the stage-2 targets, sampling and losses."""
import pytest
import torch
from mmaction.registry import MODELS

import hrpro_plugin  # noqa: F401  (registers the parts)
from hrpro_plugin.models.instance_level.instance_head import InstanceHead
from hrpro_plugin.models.instance_level.instance_losses import (InstanceLoss,
                                                        assign_targets,
                                                        cut_pool,
                                                        sample_negatives)

RP = dict(start=torch.tensor([0.0, 10.0, 0.0]),
          end=torch.tensor([4.0, 14.0, 2.0]),
          batch=torch.tensor([0, 0, 1]))


def _targets(s, e, b):
    return assign_targets(torch.tensor(s), torch.tensor(e), torch.tensor(b),
                          RP['start'], RP['end'], RP['batch'])


def test_assign_targets_hand():
    t = _targets([0.0, 11.0, 1.0, 0.0, 0.0, 5.0],
                 [2.0, 15.0, 3.0, 4.0, 4.0, 9.0],
                 [0, 0, 1, 2, 0, 0])
    # [0,2] vs [0,4]: 2/4; [11,15] vs [10,14]: 3/5; video 1 [1,3] vs [0,2]:
    # 1/3; video 2 has no RP: 0 (video 0's [0,4] is not its RP); exact: 1;
    # [5,9] overlaps nothing: 0
    assert t.tolist() == pytest.approx([0.5, 0.6, 1 / 3, 0.0, 1.0, 0.0])
    none = assign_targets(torch.tensor([1.0]), torch.tensor([2.0]),
                          torch.tensor([0]), torch.zeros(0), torch.zeros(0),
                          torch.zeros(0, dtype=torch.long))
    assert none.tolist() == [0.0]


def test_cut_pool_caps_each_video_uniformly():
    batch = torch.tensor([0] * 1500 + [1] * 40 + [2] * 1000)
    idx = cut_pool(batch, 1000, torch.Generator().manual_seed(0))
    assert torch.equal(idx, torch.sort(idx).values)
    counts = torch.bincount(batch[idx], minlength=3).tolist()
    assert counts == [1000, 40, 1000]
    again = cut_pool(batch, 1000, torch.Generator().manual_seed(0))
    assert torch.equal(idx, again)
    other = cut_pool(batch, 1000, torch.Generator().manual_seed(1))
    assert not torch.equal(idx, other)
    # uniform: the first and second halves of video 0 keep ~500 each
    first_half = int((idx < 750).sum())
    assert 440 < first_half < 560
    assert torch.equal(cut_pool(batch, None), torch.arange(2540))


def test_sample_negatives_rate_per_video():
    # video 0: 3 positives, 300 negatives -> each negative kept w.p. 0.01;
    # video 1: no positive -> no negative; video 2: 2 positives, 1
    # negative -> rate min(2, 1) = 1
    target = torch.tensor([0.5, 0.9, 0.3] + [0.1] * 300 + [0.0] * 4 +
                          [0.4, 0.8, 0.29])
    batch = torch.tensor([0] * 303 + [1] * 4 + [2] * 3)
    kept = []
    for seed in range(200):
        k = sample_negatives(target, batch, 0.3,
                             torch.Generator().manual_seed(seed))
        assert k[:3].all() and not k[303:307].any() and k[307:].all()
        kept.append(int(k[3:303].sum()))
    # 300 x 0.01 = 3 expected a draw
    assert 2.6 < sum(kept) / len(kept) < 3.4


def test_per_video_means_then_batch_mean():
    loss = InstanceLoss()
    p = torch.tensor([0.5, 0.3, 0.2])
    t = torch.tensor([0.5, 0.1, 0.1])
    b = torch.tensor([0, 0, 1])
    rs, re = torch.tensor([20.0, 20.0, 20.0]), torch.tensor([21.0] * 3)
    # video 0: mean(0, 0.5 * 0.2^2) = 0.01; video 1: 0.5 * 0.1^2 = 0.005
    out = loss.loss_terms(p, rs, re, t, b, RP['start'], RP['end'], RP['batch'])
    assert out['loss_score'].item() == pytest.approx(0.0075)
    # a third video without kept proposals counts as 0
    out = loss.loss_terms(p, rs, re, t, b, RP['start'], RP['end'],
                          RP['batch'], num_videos=3)
    assert out['loss_score'].item() == pytest.approx(0.005)


def test_loss_values_by_hand():
    loss = InstanceLoss(reg_weight=2.0, score_weight=3.0)
    p_comp = torch.tensor([0.5, 0.2])
    target = torch.tensor([0.5, 0.1])      # one positive, one negative
    rs = torch.tensor([0.0, 20.0])
    re = torch.tensor([2.0, 21.0])
    out = loss.loss_terms(p_comp, rs, re, target, torch.tensor([0, 0]),
               RP['start'], RP['end'], RP['batch'])
    # reg: refined [0, 2] vs [0, 4]: tIoU 0.5 -> 0.5 * 0.5^2 = 0.125
    # score: mean(0.5 * 0^2, 0.5 * 0.1^2) = 0.0025
    assert out['loss_reg'].item() == pytest.approx(2.0 * 0.125)
    assert out['loss_score'].item() == pytest.approx(3.0 * 0.0025)
    built = MODELS.build(dict(type='InstanceLoss'))
    assert isinstance(built, InstanceLoss)


def test_reg_gradient_through_tiou():
    loss = InstanceLoss()
    rs = torch.tensor([1.0], requires_grad=True)
    re = torch.tensor([3.5], requires_grad=True)
    out = loss.loss_terms(torch.tensor([0.4]), rs, re, torch.tensor([0.75]),
               torch.tensor([0]), RP['start'], RP['end'], RP['batch'])
    out['loss_reg'].backward()
    # refined [1, 3.5] inside RP [0, 4]: tIoU = (e' - s') / 4 = 0.625;
    # L = 0.5 (1 - tIoU)^2; dL/ds' = -(1 - tIoU) * (-1/4) = 0.09375,
    # dL/de' = -(1 - tIoU) * (1/4) = -0.09375
    assert out['loss_reg'].item() == pytest.approx(0.5 * 0.375 ** 2)
    assert rs.grad.item() == pytest.approx(0.09375)
    assert re.grad.item() == pytest.approx(-0.09375)


def test_reg_gradient_reaches_head():
    torch.manual_seed(0)
    head = InstanceHead(4, hidden_score=(8, 8), hidden_reg=8)
    feats = torch.randn(1, 20, 4)
    mask = torch.ones(1, 20, dtype=torch.bool)
    b = torch.tensor([0, 0])
    s, e = torch.tensor([1.0, 9.0]), torch.tensor([5.0, 15.0])
    out = head(feats, mask, b, s, e)
    target = assign_targets(s, e, b, RP['start'], RP['end'], RP['batch'])
    assert bool((target >= 0.3).all())
    losses = InstanceLoss().loss_terms(out['p_comp'], out['refined_start'],
                            out['refined_end'], target, b, RP['start'],
                            RP['end'], RP['batch'])
    sum(losses.values()).backward()
    for reg in (head.start_reg, head.end_reg):
        assert reg[-1].weight.grad.abs().sum() > 0
        assert reg[0].weight.grad.abs().sum() > 0
    assert head.score_head[-1].weight.grad.abs().sum() > 0


def test_no_positives_keeps_graph():
    rs = torch.tensor([20.0], requires_grad=True)
    re = torch.tensor([21.0], requires_grad=True)
    p = torch.tensor([0.3], requires_grad=True)
    out = InstanceLoss().loss_terms(p, rs, re, torch.tensor([0.0]), torch.tensor([0]),
                         RP['start'], RP['end'], RP['batch'])
    assert out['loss_reg'].item() == 0.0 and out['loss_reg'].requires_grad
    (out['loss_reg'] + out['loss_score']).backward()
    assert rs.grad.item() == 0.0
    assert p.grad.item() == pytest.approx(0.3)


def _constant_head(p_comp, d_start, d_end, D=2):
    """An InstanceHead whose outputs do not depend on the features:
    completeness ``p_comp`` and offsets ``d_start`` / ``d_end`` for every
    proposal (the last layer of each branch: weight 0, bias set)."""
    torch.manual_seed(0)
    head = InstanceHead(D, hidden_score=(4, 4), hidden_reg=4, dropout=0.0)
    with torch.no_grad():
        head.score_head[-1].weight.zero_()
        head.score_head[-1].bias.fill_(
            torch.logit(torch.tensor(p_comp, dtype=torch.float64)).item())
        for mod, val in ((head.start_reg, d_start), (head.end_reg, d_end)):
            mod[-1].weight.zero_()
            mod[-1].bias.fill_(val)
    return head


def _record_head_inputs(head):
    seen = []
    head.register_forward_hook(
        lambda m, args, out: seen.append([a.clone() for a in args[2:]]))
    return seen


# Two videos of 20 snippets. Video 0: pseudo instances (RP) [0, 4] and
# [10, 14]; PP [0, 2] and [11, 15]; NP [16, 18]. Video 1: RP [16, 18]; PP
# [15, 19]; NP [2, 3]. (Video 0's NP [16, 18] is exactly video 1's RP: a
# target computed across videos would make it a positive.)
MINED_2 = dict(
    pp=dict(batch_idx=torch.tensor([0, 0, 1]),
            start=torch.tensor([0.0, 11.0, 15.0]),
            end=torch.tensor([2.0, 15.0, 19.0])),
    rp=dict(batch_idx=torch.tensor([0, 0, 1]),
            start=torch.tensor([0.0, 10.0, 16.0]),
            end=torch.tensor([4.0, 14.0, 18.0])),
    np=dict(batch_idx=torch.tensor([0, 1]),
            start=torch.tensor([16.0, 2.0]), end=torch.tensor([18.0, 3.0])))


def test_forward_known_answer_two_videos():
    """The whole stage-2 loss of a batch, every number by hand.

    Pool (PP then NP, all kept: fewer than max_proposals) and targets:
      v0 [0, 2]   vs [0, 4]:   2 / 4            = 0.5  positive
      v0 [11, 15] vs [10, 14]: 3 / 5            = 0.6  positive
      v1 [15, 19] vs [16, 18]: 2 / 4            = 0.5  positive
      v0 [16, 18]: no RP of video 0 overlaps    = 0    negative
      v1 [2, 3]:   no RP of video 1 overlaps    = 0    negative
    Negatives kept with probability min(n_pos / n_neg, 1): v0 min(2/1, 1)
    = 1, v1 min(1/1, 1) = 1, so every proposal is kept whatever the draw.

    Head: p_comp = 0.75, d_start = -0.25, d_end = 0.5, so s' = s - 0.25 w,
    e' = e + 0.5 w (w = e - s); L_reg = 0.5 (1 - tIoU(refined, RP))^2:
      v0 [0, 2]   -> [-0.5, 3]: with [0, 4]:   3 / 4.5 = 2/3 -> 1/18
      v0 [11, 15] -> [10, 17]:  with [10, 14]: 4 / 7         -> 9/98
      v1 [15, 19] -> [14, 21]:  with [16, 18]: 2 / 7         -> 25/98
    loss_reg = mean over videos of the per-video means
             = ((1/18 + 9/98) / 2 + 25/98) / 2 = 0.1643990930
    loss_score: SmoothL1(0.75, target) = 0.5 (0.75 - target)^2:
      v0: (0.5 * 0.25^2 + 0.5 * 0.15^2 + 0.5 * 0.75^2) / 3 = 0.1079166667
      v1: (0.5 * 0.25^2 + 0.5 * 0.75^2) / 2                 = 0.15625
      mean: 0.1320833333
    """
    head = _constant_head(0.75, -0.25, 0.5)
    seen = _record_head_inputs(head)
    feats = torch.randn(2, 20, 2)
    mask = torch.ones(2, 20, dtype=torch.bool)
    for seed in (0, 1, 2):
        seen.clear()
        out = InstanceLoss()(head, feats, mask, MINED_2,
                             generator=torch.Generator().manual_seed(seed))
        assert out['loss_reg'].item() == pytest.approx(0.1643990930, abs=1e-6)
        assert out['loss_score'].item() == pytest.approx(0.1320833333,
                                                         abs=1e-6)
        # the head saw the whole pool, PP then NP, with each one's video
        (b, s, e), = seen
        assert b.tolist() == [0, 0, 1, 0, 1]
        assert s.tolist() == [0.0, 11.0, 15.0, 16.0, 2.0]
        assert e.tolist() == [2.0, 15.0, 19.0, 18.0, 3.0]
    # the weights scale each term
    out = InstanceLoss(reg_weight=2.0, score_weight=0.5)(
        head, feats, mask, MINED_2, generator=torch.Generator().manual_seed(0))
    assert out['loss_reg'].item() == pytest.approx(2 * 0.1643990930, abs=1e-6)
    assert out['loss_score'].item() == pytest.approx(0.5 * 0.1320833333,
                                                     abs=1e-6)


def test_forward_video_without_rp_counts_as_zero():
    """Video 1 loses its RP: its PP [15, 19] and NP [2, 3] both get target
    0, it has no positive, so no negative is kept either (rate 0) and the
    head never sees its proposals; it still counts in the batch mean:
    loss_reg = (0.0736961451 + 0) / 2 = 0.0368480726 (video 0's mean
    (1/18 + 9/98) / 2 from the test above), loss_score = (0.1079166667 +
    0) / 2 = 0.0539583333."""
    mined = dict(MINED_2, rp=dict(batch_idx=torch.tensor([0, 0]),
                                  start=torch.tensor([0.0, 10.0]),
                                  end=torch.tensor([4.0, 14.0])))
    head = _constant_head(0.75, -0.25, 0.5)
    seen = _record_head_inputs(head)
    out = InstanceLoss()(head, torch.randn(2, 20, 2),
                         torch.ones(2, 20, dtype=torch.bool), mined,
                         generator=torch.Generator().manual_seed(0))
    assert out['loss_reg'].item() == pytest.approx(0.0368480726, abs=1e-6)
    assert out['loss_score'].item() == pytest.approx(0.0539583333, abs=1e-6)
    (b, s, e), = seen
    assert b.tolist() == [0, 0, 0]
    assert s.tolist() == [0.0, 11.0, 16.0]


def test_forward_pos_iou_threshold():
    """pos_iou = 0.55: v0 [0, 2] (target 0.5) and v1 [15, 19] (0.5) become
    negatives; v0 keeps one positive [11, 15] (0.6) and two negatives with
    probability min(1 / 2, 1) each, v1 has no positive (keeps nothing). So
    loss_reg = (9/98 + 0) / 2 = 0.0459183673 whatever negatives are drawn,
    and loss_score is v0's mean over [11, 15] plus the drawn negatives,
    halved: 0.5 (0.75 - 0.6)^2 = 0.01125 alone, 0.5 * 0.25^2 = 0.03125 for
    [0, 2], 0.5 * 0.75^2 = 0.28125 for [16, 18]."""
    head = _constant_head(0.75, -0.25, 0.5)
    seen = _record_head_inputs(head)
    feats = torch.randn(2, 20, 2)
    mask = torch.ones(2, 20, dtype=torch.bool)
    per_neg = {0.0: 0.03125, 16.0: 0.28125}
    drawn = set()
    for seed in range(40):
        seen.clear()
        out = InstanceLoss(pos_iou=0.55)(
            head, feats, mask, MINED_2,
            generator=torch.Generator().manual_seed(seed))
        assert out['loss_reg'].item() == pytest.approx(0.0459183673,
                                                       abs=1e-6)
        (b, s, e), = seen
        assert b.tolist() == [0] * len(b) and 11.0 in s.tolist()
        negs = [x for x in s.tolist() if x != 11.0]
        terms = [0.01125] + [per_neg[x] for x in negs]
        assert out['loss_score'].item() == pytest.approx(
            sum(terms) / len(terms) / 2, abs=1e-6)
        drawn.add(tuple(negs))
    # each of the four subsets of the two negatives (probability 1/4 each)
    assert drawn == {(), (0.0, ), (16.0, ), (0.0, 16.0)}


def test_forward_trains_the_head():
    """The whole loss of a batch (its values are pinned to the reference's
    in tests/parity/test_reference_instance_head.py) reaches every branch."""
    torch.manual_seed(0)
    head = InstanceHead(4, hidden_score=(8, 8), hidden_reg=8)
    feats = torch.randn(2, 20, 4)
    mask = torch.ones(2, 20, dtype=torch.bool)
    mined = dict(
        pp=dict(batch_idx=torch.tensor([0, 0, 1, 1]),
                start=torch.tensor([0.5, 12.0, 0.0, 9.0]),
                end=torch.tensor([4.0, 13.0, 2.5, 12.0])),
        rp=dict(batch_idx=torch.tensor([0, 1]),
                start=torch.tensor([0.0, 0.0]), end=torch.tensor([4.0, 2.0])),
        np=dict(batch_idx=torch.tensor([0, 1, 1]),
                start=torch.tensor([16.0, 15.0, 17.0]),
                end=torch.tensor([18.0, 16.0, 19.0])))
    out = InstanceLoss()(head, feats, mask, mined,
                         generator=torch.Generator().manual_seed(4))
    assert out['loss_reg'].item() > 0 and out['loss_score'].item() > 0
    sum(out.values()).backward()
    for mod in (head.start_reg, head.end_reg, head.score_head):
        assert mod[0].weight.grad.abs().sum() > 0
