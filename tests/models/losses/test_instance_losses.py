"""Known-answer tests of the stage-2 targets, sampling and losses."""
import pytest
import torch
from mmaction.registry import MODELS

import hrpro_plugin  # noqa: F401  (registers the parts)
from hrpro_plugin.models.heads.instance_head import InstanceHead
from hrpro_plugin.models.losses.instance_losses import (InstanceLoss,
                                                        assign_targets,
                                                        sample_proposals)

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


def test_sample_proposals_counts_and_seed():
    # video 0: 3 positives, 10 negatives; video 1: 0 positives, 4 negatives;
    # video 2: 2 positives, 1 negative
    target = torch.tensor([0.5, 0.9, 0.3] + [0.1] * 10 + [0.0] * 4 +
                          [0.4, 0.8, 0.29])
    batch = torch.tensor([0] * 13 + [1] * 4 + [2] * 3)
    idx = sample_proposals(target, batch, generator=torch.Generator().manual_seed(0))
    kept_b = batch[idx]
    pos = target[idx] >= 0.3
    assert int((pos & (kept_b == 0)).sum()) == 3
    assert int((~pos & (kept_b == 0)).sum()) == 3
    assert int((kept_b == 1).sum()) == 1          # at least one negative
    assert int((pos & (kept_b == 2)).sum()) == 2
    assert int((~pos & (kept_b == 2)).sum()) == 1  # all there is
    again = sample_proposals(target, batch,
                             generator=torch.Generator().manual_seed(0))
    assert torch.equal(idx, again)
    assert torch.equal(idx, torch.sort(idx).values)


def test_sample_proposals_cap():
    target = torch.cat([torch.full((900,), 0.5), torch.zeros(5000)])
    batch = torch.zeros(5900, dtype=torch.long)
    idx = sample_proposals(target, batch, max_per_video=1000,
                           generator=torch.Generator().manual_seed(1))
    pos = target[idx] >= 0.3
    assert idx.numel() == 1000
    assert int(pos.sum()) == 500 and int((~pos).sum()) == 500
    target = torch.cat([torch.full((900,), 0.5), torch.zeros(50)])
    idx = sample_proposals(target, torch.zeros(950, dtype=torch.long),
                           max_per_video=1000)
    assert idx.numel() == 950


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


def test_forward_pipeline_matches_steps():
    torch.manual_seed(0)
    head = InstanceHead(4, hidden_score=(8, 8), hidden_reg=8).eval()
    feats = torch.randn(2, 20, 4)
    mask = torch.ones(2, 20, dtype=torch.bool)
    mined = dict(
        pp=dict(batch_idx=torch.tensor([0, 0, 1, 1]),
                start=torch.tensor([0.5, 12.0, 0.0, 9.0]),
                end=torch.tensor([4.0, 13.0, 2.5, 12.0]),
                label=torch.tensor([0, 0, 1, 1]),
                score=torch.tensor([0.3, 0.1, 0.2, 0.4])),
        rp=dict(batch_idx=torch.tensor([0, 1]),
                start=torch.tensor([0.0, 0.0]), end=torch.tensor([4.0, 2.0])),
        np=dict(batch_idx=torch.tensor([0, 1, 1]),
                start=torch.tensor([16.0, 15.0, 17.0]),
                end=torch.tensor([18.0, 16.0, 19.0])))
    loss = InstanceLoss()
    out = loss(head, feats, mask, mined,
               generator=torch.Generator().manual_seed(4))
    # by steps: pool = PP then NP
    pb = torch.cat([mined['pp']['batch_idx'], mined['np']['batch_idx']])
    ps = torch.cat([mined['pp']['start'], mined['np']['start']])
    pe = torch.cat([mined['pp']['end'], mined['np']['end']])
    rp = mined['rp']
    t = assign_targets(ps, pe, pb, rp['start'], rp['end'], rp['batch_idx'])
    # [0.5,4] vs [0,4]: 0.875; [0,2.5] vs [0,2]: 0.8; the rest 0
    assert t.tolist() == pytest.approx([0.875, 0, 0.8, 0, 0, 0, 0])
    keep = loss.sample(t, pb, torch.Generator().manual_seed(4))
    # one positive and one negative a video
    assert pb[keep].tolist() == [0, 0, 1, 1]
    h = head(feats, mask, pb[keep], ps[keep], pe[keep])
    ref = loss.loss_terms(h['p_comp'], h['refined_start'], h['refined_end'],
                          t[keep], pb[keep], rp['start'], rp['end'],
                          rp['batch_idx'])
    for k in ('loss_reg', 'loss_score'):
        assert torch.allclose(out[k], ref[k])
    sum(out.values()).backward()
    assert head.start_reg[0].weight.grad.abs().sum() > 0
