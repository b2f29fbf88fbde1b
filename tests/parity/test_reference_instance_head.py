"""Stage 2 against the reference's ``I_Model``: RoI features (adaptive
sampling, zero padding, minimum length 1), completeness scores, refined
boxes and both losses, with the reference's weights loaded into ours."""
import numpy as np
import pytest
import torch

from hrpro_plugin.models.instance_level.instance_head import InstanceHead
from hrpro_plugin.models.instance_level.instance_losses import (InstanceLoss,
                                                        assign_targets)
from hrpro_plugin.models.instance_level.roi_align import (extend_proposals,
                                                     roi_align_1d)

from _vectors import load

VEC = load('instance_head')
INP, OUT = VEC['inputs'], VEC['outputs']


def _batch():
    feats = [torch.tensor(f, dtype=torch.float32) for f in INP['features']]
    B, T, D = len(feats), max(f.shape[0] for f in feats), feats[0].shape[1]
    x = torch.full((B, T, D), 7.0)          # padding must not leak
    mask = torch.zeros(B, T, dtype=torch.bool)
    for b, f in enumerate(feats):
        x[b, :f.shape[0]] = f
        mask[b, :f.shape[0]] = True
    props = [torch.tensor(p, dtype=torch.float32) for p in INP['proposals']]
    bidx = torch.cat([torch.full((len(p),), b) for b, p in enumerate(props)])
    cat = torch.cat(props)
    return x, mask, bidx, cat[:, 0], cat[:, 1]


def _head():
    sd = {k: torch.tensor(v, dtype=torch.float32)
          for k, v in INP['state_dict'].items()}
    D = sd['bcr.start_reg_conv.0.weight'].shape[1]
    # None: sized from D as the reference sizes its head
    head = InstanceHead(D, hidden_score=None, hidden_reg=None)

    def lin(w):        # Conv1d(k=1) weight [out, in, 1] -> Linear [out, in]
        return w.reshape(w.shape[0], -1)

    mine = {
        'score_head.0.weight': sd['bcr.prop_fusion.0.weight'],
        'score_head.0.bias': sd['bcr.prop_fusion.0.bias'],
        'score_head.3.weight': lin(sd['bcr.prop_completeness.0.weight']),
        'score_head.3.bias': sd['bcr.prop_completeness.0.bias'],
        'score_head.5.weight': lin(sd['bcr.prop_completeness.2.weight']),
        'score_head.5.bias': sd['bcr.prop_completeness.2.bias'],
    }
    for side in ('start', 'end'):
        for i in (0, 2):
            mine[f'{side}_reg.{i}.weight'] = lin(
                sd[f'bcr.{side}_reg_conv.{i}.weight'])
            mine[f'{side}_reg.{i}.bias'] = sd[f'bcr.{side}_reg_conv.{i}.bias']
    head.load_state_dict(mine)
    return head.eval()


def _per_video(t, bidx):
    return [t[bidx == b] for b in range(int(bidx.max()) + 1)]


def test_roi_features_match_reference():
    x, mask, bidx, s, e = _batch()
    es, ee = extend_proposals(s, e)
    got = roi_align_1d(x, mask, bidx, es, ee, 12)
    for b, exp in enumerate(OUT['roi_features']):
        # the reference computes sample positions in float32 on a shifted,
        # padded axis (~5e-6 snippets of position error), we in float64
        np.testing.assert_allclose(got[bidx == b].numpy(), np.asarray(exp),
                                   rtol=0, atol=3e-5)


def test_roi_features_match_reference_float64():
    """The same operator run in float64 by the reference: equal to
    rounding, so the float32 gap above is the reference's arithmetic."""
    x, mask, bidx, s, e = _batch()
    es, ee = extend_proposals(s.double(), e.double())
    got = roi_align_1d(x.double(), mask, bidx, es, ee, 12)
    for b, exp in enumerate(OUT['roi_features_float64']):
        np.testing.assert_allclose(got[bidx == b].numpy(), np.asarray(exp),
                                   rtol=0, atol=1e-12)


def test_roi_fixed_sampling_differs_from_reference():
    """A fixed two samples a bin is not the reference's operator."""
    x, mask, bidx, s, e = _batch()
    es, ee = extend_proposals(s, e)
    got = roi_align_1d(x, mask, bidx, es, ee, 12, sampling_ratio=2)
    exp = torch.tensor(OUT['roi_features'][1])
    assert not torch.allclose(got[bidx == 1], exp, atol=1e-3)


def test_head_outputs_match_reference():
    x, mask, bidx, s, e = _batch()
    head = _head()
    with torch.no_grad():
        out = head(x, mask, bidx, s, e)
        p_ref = head.score(x, mask, bidx, out['refined_start'],
                           out['refined_end'])
    for b in range(len(OUT['iou_pred_orig'])):
        sel = bidx == b
        np.testing.assert_allclose(out['p_comp'][sel].numpy(),
                                   OUT['iou_pred_orig'][b], atol=1e-6)
        refined = torch.stack([out['refined_start'][sel],
                               out['refined_end'][sel]], 1)
        np.testing.assert_allclose(refined.numpy(),
                                   np.asarray(OUT['prop_refined'][b]),
                                   atol=1e-5)
        np.testing.assert_allclose(p_ref[sel].numpy(),
                                   OUT['iou_pred_refined'][b], atol=1e-6)


def test_losses_match_reference():
    x, mask, bidx, s, e = _batch()
    rps = [torch.tensor(r, dtype=torch.float32) for r in INP['rps']]
    rb = torch.cat([torch.full((len(r),), b) for b, r in enumerate(rps)])
    rp = torch.cat(rps)
    # every video has at least as many positives as negatives, so the
    # reference kept every negative: the case has no randomness
    target = assign_targets(s, e, bidx, rp[:, 0], rp[:, 1], rb)
    for t in _per_video(target, bidx):
        assert (t >= 0.3).sum() >= (t < 0.3).sum() > 0
    mined = dict(pp=dict(batch_idx=bidx, start=s, end=e),
                 np=dict(batch_idx=bidx[:0], start=s[:0], end=e[:0]),
                 rp=dict(batch_idx=rb, start=rp[:, 0], end=rp[:, 1]))
    with torch.no_grad():
        losses = InstanceLoss()(_head(), x, mask, mined,
                                torch.Generator().manual_seed(0))
    assert losses['loss_reg'].item() == pytest.approx(OUT['reg_loss'],
                                                      abs=2e-6)
    assert losses['loss_score'].item() == pytest.approx(OUT['iou_loss'],
                                                        abs=2e-6)
