"""Instance head (RoI-aligned proposals -> completeness and boundary
regression) and its losses on the test device equal the CPU's."""
import copy

import pytest
import torch

from _devices import GRAD_RTOL, HEAD_ATOL, assert_close, stage1_like
from hrpro_plugin.models.instance_level.instance_head import InstanceHead
from hrpro_plugin.models.instance_level.instance_losses import InstanceLoss
from hrpro_plugin.models.proposals.candidates import generate_candidates

pytestmark = pytest.mark.cuda

D = 16


def _head():
    torch.manual_seed(0)
    return InstanceHead(D, hidden_score=(32, 16), hidden_reg=16).eval()


def _features(B=3, T=60, seed=9):
    g = torch.Generator().manual_seed(seed)
    _, _, _, mask = stage1_like(B, T)
    return torch.randn(B, T, D, generator=g) * mask[..., None], mask


def test_forward_and_fuse_match(device):
    head = _head()
    dev = copy.deepcopy(head).to(device)
    feats, mask = _features()
    cand = generate_candidates(*stage1_like())
    assert cand['score'].numel() > 100
    with torch.no_grad():
        ref = head(feats, mask, cand['batch_idx'], cand['start'], cand['end'])
        got = dev(feats.to(device), mask.to(device),
                  *(cand[k].to(device) for k in ('batch_idx', 'start', 'end')))
        for k in ref:
            assert_close(got[k], ref[k], atol=HEAD_ATOL, what=k)
        assert float(ref['p_comp'].std()) > 1e-3
        ref_f = head.fuse(feats, mask, cand)
        got_f = dev.fuse(feats.to(device), mask.to(device),
                         {k: v.to(device) for k, v in cand.items()})
    names = ('start', 'end', 'label', 'batch_idx', 'score')
    assert len(ref_f[0]) > len(cand['score'])   # refined boxes were added
    for name, r, g in zip(names, ref_f, got_f):
        assert g.device.type == device.type
        assert_close(g, r, atol=HEAD_ATOL, what=name)


def _mined():
    return dict(
        pp=dict(batch_idx=torch.tensor([0, 0, 1, 1, 2, 2]),
                start=torch.tensor([0.5, 12.0, 0.0, 9.0, 3.0, 20.0]),
                end=torch.tensor([4.0, 13.0, 2.5, 12.0, 9.5, 24.0])),
        rp=dict(batch_idx=torch.tensor([0, 1, 2]),
                start=torch.tensor([0.0, 0.0, 4.0]),
                end=torch.tensor([4.0, 2.0, 9.0])),
        np=dict(batch_idx=torch.tensor([0, 1, 1, 2]),
                start=torch.tensor([16.0, 15.0, 17.0, 1.0]),
                end=torch.tensor([18.0, 16.0, 19.0, 2.0])))


def test_instance_losses_and_gradients_match(device):
    head = _head()
    dev = copy.deepcopy(head).to(device)
    feats, mask = _features()
    loss = InstanceLoss()
    results = []
    for h, dv in ((head, torch.device('cpu')), (dev, device)):
        mined = {s: {k: v.to(dv) for k, v in c.items()}
                 for s, c in _mined().items()}
        out = loss(h, feats.to(dv), mask.to(dv), mined,
                   generator=torch.Generator().manual_seed(4))
        h.zero_grad()
        sum(out.values()).backward()
        results.append((out, {n: p.grad for n, p in h.named_parameters()}))
    (ref, ref_g), (got, got_g) = results
    for k in ('loss_reg', 'loss_score'):
        assert float(ref[k].detach()) > 0, k
        assert_close(got[k], ref[k], rtol=1e-5, atol=1e-7, what=k)
    for n, g in ref_g.items():
        assert g is not None, n
        assert_close(got_g[n], g, rtol=GRAD_RTOL, what=n)
