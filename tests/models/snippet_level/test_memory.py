import os
import socket
import subprocess
import sys

import pytest
import torch

from hrpro_plugin.models.snippet_level.memory import PrototypeMemory

from _helpers import REPO_ROOT  # noqa: E402


def test_init_means_hand_made():
    # video 0 (T=4): snippet 0 class 0, snippet 2 classes 0 and 1,
    # snippet 3 class 1. video 1 (T=2 of 4): snippet 1 class 1; a label on
    # a padded snippet (3) must be ignored.
    emb = torch.tensor([[[1., 0.], [9., 9.], [3., 4.], [5., 2.]],
                        [[7., 7.], [0., 6.], [8., 8.], [100., 100.]]])
    labels = torch.zeros(2, 4, 2)
    labels[0, 0, 0] = labels[0, 2, 0] = labels[0, 2, 1] = labels[0, 3, 1] = 1
    labels[1, 1, 1] = labels[1, 3, 0] = 1
    mask = torch.tensor([[True] * 4, [True, True, False, False]])
    mem = PrototypeMemory(2, 2)
    assert not bool(mem.initialized)
    sums, counts = mem.accumulate_init(emb, labels, mask)
    torch.testing.assert_close(counts, torch.tensor([2., 3.]))
    mem.init_from_sums(sums, counts)
    # class 0: ([1,0] + [3,4]) / 2 = [2, 2]
    # class 1: ([3,4] + [5,2] + [0,6]) / 3 = [8/3, 4]
    torch.testing.assert_close(mem.prototypes,
                               torch.tensor([[2., 2.], [8 / 3, 4.]]))
    assert bool(mem.initialized)


def test_init_class_without_points_is_an_error():
    mem = PrototypeMemory(3, 2)
    with pytest.raises(ValueError, match=r'\[1\]'):
        mem.init_from_sums(torch.ones(3, 2), torch.tensor([1., 0., 2.]))


def _sequential(protos, emb, labels, mask, mom):
    """The definition: one video after another, one class at a time."""
    m = protos.clone()
    for b in range(emb.shape[0]):
        for c in range(labels.shape[-1]):
            sel = (labels[b, :, c] > 0) & mask[b]
            if sel.any():
                m[c] = mom * m[c] + (1 - mom) * emb[b][sel].mean(0)
    return m


def _random_batch(seed, B=4, T=6, C=3, D=5):
    g = torch.Generator().manual_seed(seed)
    emb = torch.randn(B, T, D, generator=g)
    labels = (torch.rand(B, T, C, generator=g) > 0.6).float()
    labels[0, :, 2] = 0                     # class 2 absent from video 0
    lengths = torch.randint(2, T + 1, (B,), generator=g)
    lengths[0] = T
    mask = torch.arange(T)[None] < lengths[:, None]
    return emb, labels, mask


@pytest.mark.parametrize('mom', [0.999, 0.5])
def test_update_closed_form_equals_sequential(mom):
    emb, labels, mask = _random_batch(1)
    mem = PrototypeMemory(3, 5, momentum=mom)
    mem.prototypes.copy_(torch.randn(3, 5))
    expected = _sequential(mem.prototypes, emb, labels, mask, mom)
    mem.update(emb, labels, mask)
    torch.testing.assert_close(mem.prototypes, expected, atol=1e-6,
                               rtol=1e-6)


def test_start_of_step_semantics():
    # the forward reads the buffer; the update after it must not change what
    # the step computed nor break its backward pass
    mem = PrototypeMemory(2, 3, momentum=0.5)
    mem.prototypes.copy_(torch.randn(2, 3))
    snapshot = mem.prototypes.clone()
    x = torch.randn(1, 4, 3, requires_grad=True)
    labels = torch.ones(1, 4, 2)
    mask = torch.ones(1, 4, dtype=torch.bool)

    def forward(protos):
        return torch.softmax(x @ protos.t(), -1).sum() * (x ** 2).sum()

    loss = forward(mem.prototypes)
    mem.update(x, labels, mask)
    assert not torch.allclose(mem.prototypes, snapshot)
    loss.backward()
    grad = x.grad.clone()
    x.grad = None
    ref = forward(snapshot)
    ref.backward()
    torch.testing.assert_close(loss.detach(), ref.detach())
    torch.testing.assert_close(grad, x.grad)
    assert mem.prototypes.grad is None


def test_state_dict_and_not_parameters():
    mem = PrototypeMemory(2, 3)
    mem.init_from_sums(torch.randn(2, 3), torch.ones(2))
    assert list(mem.parameters()) == []
    sd = mem.state_dict()
    assert set(sd) == {'prototypes', 'initialized'}
    other = PrototypeMemory(2, 3)
    other.load_state_dict(sd)
    torch.testing.assert_close(other.prototypes, mem.prototypes)
    assert bool(other.initialized)
    # after an update the prototypes are still the registered buffer
    mem.update(torch.randn(1, 3, 3), torch.ones(1, 3, 2),
               torch.ones(1, 3, dtype=torch.bool))
    torch.testing.assert_close(mem.state_dict()['prototypes'],
                               mem.prototypes)
    assert dict(mem.named_buffers())['prototypes'] is mem.prototypes


def test_update_leaves_classes_without_seeds():
    mem = PrototypeMemory(2, 3, momentum=0.5)
    mem.prototypes.copy_(torch.randn(2, 3))
    before = mem.prototypes.clone()
    labels = torch.zeros(2, 4, 2)
    labels[0, 1, 0] = 1
    labels[1, 3, 1] = 1          # padded snippet: ignored
    mask = torch.tensor([[True] * 4, [True, True, False, False]])
    emb = torch.randn(2, 4, 3)
    mem.update(emb, labels, mask)
    torch.testing.assert_close(mem.prototypes[1], before[1])
    torch.testing.assert_close(mem.prototypes[0],
                               0.5 * before[0] + 0.5 * emb[0, 1])


_WORKER = r'''
import sys
import torch
import torch.distributed as td
rank, world, port, folder = (int(sys.argv[1]), int(sys.argv[2]),
                             sys.argv[3], sys.argv[4])
td.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                      rank=rank, world_size=world)
import importlib.util
# load the module by path: the worker needs only it, not every part that
# `import hrpro_plugin` registers (keeps the two process starts quick)
spec = importlib.util.spec_from_file_location('memory_under_test',
                                              sys.argv[5])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
PrototypeMemory = module.PrototypeMemory
data = torch.load(f'{folder}/data.pt')
mem = PrototypeMemory(3, 5, momentum=data['mom'])
mem.prototypes.copy_(data['init'])
lo, hi = data['splits'][rank]
mem.update(data['emb'][lo:hi], data['labels'][lo:hi], data['mask'][lo:hi])
torch.save(mem.prototypes, f'{folder}/rank{rank}.pt')
td.destroy_process_group()
'''


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_process_gloo_matches_sequential(tmp_path):
    mom = 0.5
    emb, labels, mask = _random_batch(2, B=5)
    init = torch.randn(3, 5)
    # rank 0 holds videos 0-1, rank 1 holds videos 2-4
    torch.save(dict(emb=emb, labels=labels, mask=mask, init=init, mom=mom,
                    splits=[(0, 2), (2, 5)]), tmp_path / 'data.pt')
    script = tmp_path / 'worker.py'
    script.write_text(_WORKER)
    env = dict(os.environ)
    port = str(_free_port())
    module_path = os.path.join(REPO_ROOT, 'hrpro_plugin', 'models',
                               'snippet_level', 'memory.py')
    procs = [subprocess.Popen([sys.executable, str(script), str(r), '2',
                               port, str(tmp_path), module_path], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for r in range(2)]
    for p in procs:
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0, out.decode()
    expected = _sequential(init, emb, labels, mask, mom)
    r0 = torch.load(tmp_path / 'rank0.pt')
    r1 = torch.load(tmp_path / 'rank1.pt')
    torch.testing.assert_close(r0, r1, atol=0, rtol=0)
    torch.testing.assert_close(r0, expected, atol=1e-6, rtol=1e-6)
