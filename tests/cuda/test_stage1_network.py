"""Stage-1 network (RAB stack + snippet head inside HRPro): forward outputs,
losses, gradients and SGD steps on the test device equal the CPU's."""
import pytest
import torch
from mmengine.optim import OptimWrapper

from _devices import (GRAD_RTOL, NET_RTOL, assert_close, batch, build_model,
                      make_features, make_samples, on)

pytestmark = pytest.mark.cuda

OUT_KEYS = ('fused_cas', 'attn', 'bg', 'video_scores', 'embedded')


def _outputs(model, feats, samples):
    data = batch(model, feats, samples)
    with torch.no_grad():
        return model(**data, mode='tensor')


def test_forward_outputs_match(device):
    cpu = build_model().eval()
    dev = on(cpu, device)
    feats, samples = make_features(), make_samples()
    ref = _outputs(cpu, feats, samples)
    got = _outputs(dev, feats, samples)
    for key in OUT_KEYS:
        assert got[key].device.type == device.type
        assert_close(got[key], ref[key], rtol=NET_RTOL, what=key)
    # padded positions of the shorter videos stay zero on the device
    T = max(len(f) for f in feats)
    for i, f in enumerate(feats):
        if len(f) < T:
            assert float(got['embedded'][i, len(f):].abs().max()) == 0.0


def test_stage1_losses_and_gradients_match(device):
    cpu = build_model().eval()          # eval: no dropout, no memory update
    dev = on(cpu, device)
    feats, samples = make_features(), make_samples()
    grads = []
    losses = []
    for model in (cpu, dev):
        model.zero_grad()
        out = model(**batch(model, feats, samples), mode='loss')
        total = sum(out.values())
        total.backward()
        losses.append({k: v.detach() for k, v in out.items()})
        grads.append({n: p.grad for n, p in model.named_parameters()
                      if p.grad is not None})
    assert set(losses[0]) == set(losses[1]) and len(losses[0]) >= 2
    for k in losses[0]:
        assert float(losses[0][k]) > 0, k
        assert_close(losses[1][k], losses[0][k], rtol=NET_RTOL, what=k)
    # every stage-1 parameter gets a gradient, the instance head none
    assert set(grads[0]) == set(grads[1])
    assert any(n.startswith('neck.') for n in grads[0])
    assert not any(n.startswith('instance_head.') for n in grads[0])
    for n in grads[0]:
        assert_close(grads[1][n], grads[0][n], rtol=GRAD_RTOL, what=n)


def test_sgd_steps_and_memory_update_match(device):
    """Three training steps (dropout off, so both devices draw nothing)
    through BaseModel.train_step: same weights and prototype memory."""
    cpu = build_model(dropout=False).train()
    dev = on(cpu, device)
    feats, samples = make_features(), make_samples()
    for model in (cpu, dev):
        wrapper = OptimWrapper(torch.optim.SGD(
            [p for p in model.parameters() if p.requires_grad], lr=0.05))
        for _ in range(3):
            log_vars = model.train_step(
                dict(inputs=[f.clone() for f in feats],
                     data_samples=[s.clone() for s in samples]), wrapper)
        model.log_vars = log_vars
    before = build_model(dropout=False)
    assert max_abs(cpu.memory.prototypes - before.memory.prototypes) > 0
    assert_close(dev.memory.prototypes, cpu.memory.prototypes,
                 rtol=GRAD_RTOL, what='memory.prototypes')
    moved = 0
    for (n, p_cpu), (_, p_dev) in zip(cpu.named_parameters(),
                                       dev.named_parameters()):
        assert_close(p_dev, p_cpu, rtol=GRAD_RTOL, what=n)
        moved += int(not torch.equal(p_cpu, dict(
            before.named_parameters())[n]))
    assert moved > 10
    for k, v in cpu.log_vars.items():
        assert abs(float(dev.log_vars[k].detach()) - float(v.detach())) <= \
            GRAD_RTOL * abs(float(v.detach())) + 1e-6, k


def max_abs(x):
    return float(x.abs().max())
