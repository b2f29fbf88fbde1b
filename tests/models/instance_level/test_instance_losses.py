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
