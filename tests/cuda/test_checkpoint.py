"""A checkpoint written on the test device loads on the CPU (as
tools/test.py loads it) and predicts the same; written again on the CPU it
loads back on the device bit for bit."""
import pytest
import torch
from mmengine.runner import load_checkpoint, save_checkpoint

from _devices import (NET_RTOL, PRED_ATOL, assert_close, batch, build_model,
                      make_features, make_samples, on)

pytestmark = pytest.mark.cuda


def _locations(path):
    """The storage location tags recorded in a checkpoint file."""
    tags = set()

    def record(storage, location):
        tags.add(location)
        return storage
    torch.load(path, map_location=record, weights_only=False)
    return tags


def _outputs(model, feats, samples):
    with torch.no_grad():
        out = model(**batch(model, feats, samples), mode='tensor')
        pred = model(**batch(model, feats, samples), mode='predict')
    return out, pred


def test_device_checkpoint_to_cpu_and_back(device, tmp_path):
    feats, samples = make_features(), make_samples()
    dev = on(build_model(), device).eval()
    dev.switch_to_stage2()
    dev.stage2_steps.fill_(7)
    state = dev.state_dict()
    assert all(t.device.type == device.type for t in state.values())
    path = str(tmp_path / 'on_device.pth')
    save_checkpoint(dict(state_dict=state, meta=dict(device=str(device))),
                    path)
    tag = 'cpu' if device.type == 'cpu' else f'cuda:{device.index or 0}'
    assert _locations(path) == {tag}

    # load on the CPU into a fresh model, strictly, as the tools do
    cpu = build_model(dropout=True)
    with torch.no_grad():
        for p in cpu.parameters():
            p.add_(1.0)           # make sure the load overwrites everything
    load_checkpoint(cpu, path, map_location='cpu', strict=True,
                    logger='silent')
    cpu.eval()
    assert cpu.current_stage == 2 and int(cpu.stage2_steps) == 7
    for k, v in cpu.state_dict().items():
        assert v.device.type == 'cpu'
        assert torch.equal(v, state[k].cpu()), k
    ref_out, ref_pred = _outputs(dev, feats, samples)
    out, pred = _outputs(cpu, feats, samples)
    for k in ref_out:
        assert_close(out[k], ref_out[k], rtol=NET_RTOL, what=k)
    assert sum(len(p.pred_instances) for p in pred) > 0
    for p, q in zip(pred, ref_pred):
        assert len(p.pred_instances) == len(q.pred_instances)
        assert_close(p.pred_instances.scores, q.pred_instances.scores,
                     atol=PRED_ATOL, what='scores')

    # and back: written on the CPU, loaded on the device
    back_path = str(tmp_path / 'on_cpu.pth')
    save_checkpoint(dict(state_dict=cpu.state_dict()), back_path)
    assert _locations(back_path) == {'cpu'}
    back = build_model()
    back.to(device)
    load_checkpoint(back, back_path, map_location=str(device), strict=True,
                    logger='silent')
    back.eval()
    for k, v in back.state_dict().items():
        assert v.device.type == device.type
        assert torch.equal(v.cpu(), state[k].cpu()), k
    again, _ = _outputs(back, feats, samples)
    for k in ref_out:
        assert_close(again[k], ref_out[k], atol=1e-6, what=k)
