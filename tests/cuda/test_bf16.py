"""The bf16 path (``HRPro.bf16``, ``tools/train.py --amp``) against float32
on the test device: on CUDA the model's own switch; on the CPU, where the
model ignores it, the same regions under CPU bf16 autocast."""
import contextlib

import pytest
import torch

from _devices import (BF16_GRAD_COS, BF16_LOSS_RTOL, BF16_MIN_DIFF,
                      BF16_PROB_ATOL, BF16_RTOL, assert_close, batch,
                      bf16_autocast, build_model, make_features,
                      make_samples, max_diff, on, stage1_like)
from hrpro_plugin.models.proposals.candidates import generate_candidates

pytestmark = pytest.mark.cuda

PROBS = ('fused_cas', 'attn', 'bg', 'video_scores')


def _setup(device):
    model = on(build_model().eval(), device)
    return model, make_features(), make_samples()


def test_stage1_outputs_and_losses_within_bf16_tolerance(device):
    model, feats, samples = _setup(device)
    with torch.no_grad():
        ref = model(**batch(model, feats, samples), mode='tensor')
        ref_loss = model(**batch(model, feats, samples), mode='loss')
        with bf16_autocast(model, device):
            got = model(**batch(model, feats, samples), mode='tensor')
            got_loss = model(**batch(model, feats, samples), mode='loss')
    for key in PROBS:
        assert got[key].dtype == torch.float32, key  # cast back after autocast
        assert_close(got[key], ref[key], atol=BF16_PROB_ATOL, what=key)
    assert max(max_diff(got[k], ref[k]) for k in PROBS) > BF16_MIN_DIFF
    assert_close(got['embedded'], ref['embedded'], rtol=BF16_RTOL,
                 what='embedded')
    for k in ref_loss:
        assert got_loss[k].dtype == torch.float32
        assert_close(got_loss[k], ref_loss[k], rtol=BF16_LOSS_RTOL, what=k)


def test_bf16_gradients_point_the_same_way(device):
    model, feats, samples = _setup(device)

    def grads(ctx):
        model.zero_grad()
        with ctx:
            out = model(**batch(model, feats, samples), mode='loss')
        sum(out.values()).backward()
        for p in model.parameters():
            assert p.dtype == torch.float32    # weights stay float32
        return torch.cat([p.grad.flatten() for p in model.parameters()
                          if p.grad is not None])

    g32 = grads(contextlib.nullcontext())
    g16 = grads(bf16_autocast(model, device))
    assert torch.isfinite(g16).all()
    cos = float(torch.nn.functional.cosine_similarity(g32, g16, dim=0))
    assert cos >= BF16_GRAD_COS
    assert not torch.equal(g32, g16)


def test_instance_head_within_bf16_tolerance(device):
    model, feats, samples = _setup(device)
    model.switch_to_stage2()
    data = batch(model, feats, samples)
    x = data['inputs']
    mask = model.masks_for(x, data['data_samples'])
    cand = generate_candidates(*[t.to(device) for t in stage1_like(
        B=x.shape[0], T=x.shape[1], C=model.num_classes)])
    args = (x, mask, cand['batch_idx'], cand['start'], cand['end'])
    with torch.no_grad():
        ref = model.instance_head(*args)
        with bf16_autocast(model, device), model.autocast(x):
            got = model.instance_head(*args)
    assert got['p_comp'].dtype == torch.bfloat16   # autocast was on
    assert_close(got['p_comp'].float(), ref['p_comp'], atol=BF16_PROB_ATOL,
                 what='p_comp')
    assert max_diff(got['p_comp'], ref['p_comp']) > BF16_MIN_DIFF
    for k in ('d_start', 'd_end'):
        assert_close(got[k].float(), ref[k], atol=BF16_PROB_ATOL,
                     rtol=BF16_RTOL, what=k)


def test_bf16_switch_is_a_no_op_on_cpu():
    """``bf16=True`` on a CPU model changes nothing (documented: CUDA
    only), so CPU runs of a --amp config equal float32 ones bit for bit."""
    model = build_model().eval()
    feats, samples = make_features(), make_samples()
    with torch.no_grad():
        ref = model(**batch(model, feats, samples), mode='tensor')
        model.bf16 = True
        got = model(**batch(model, feats, samples), mode='tensor')
    for k in ref:
        assert torch.equal(got[k], ref[k]), k
