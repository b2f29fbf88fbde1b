"""ProposalMiningHook reuses a mining file only when it was mined from the
same stage-1 weights, videos, points and settings."""
import types

import numpy as np
import torch

from hrpro_plugin.engine.hooks.proposal_mining_hook import ProposalMiningHook
from hrpro_plugin.models.instance_level.proposal_file import (make_proposal_data,
                                                         save_proposals)


class _Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.neck = torch.nn.Linear(3, 2)
        self.instance_head = torch.nn.Linear(2, 1)
        self.register_buffer('prototypes', torch.zeros(2, 3))
        self.proposal_cfg = dict(outer_ratio=0.25)


class _Dataset:
    def __init__(self, points=(1, 4)):
        self.infos = [dict(video_name='a', num_snippets=10,
                           point_snippets=np.array(points),
                           point_labels=np.array([0, 1]),
                           point_positions=np.array(points) + 0.3),
                      dict(video_name='b', num_snippets=7,
                           point_snippets=np.array([2]),
                           point_labels=np.array([0]),
                           point_positions=np.array([2.5]))]

    def __len__(self):
        return len(self.infos)

    def get_data_info(self, i):
        return self.infos[i]


def _runner(model, seed=0):
    return types.SimpleNamespace(
        model=model, seed=seed, experiment_name='x',
        train_loop=types.SimpleNamespace(stage1_iters=10))


def _write(path, stamp):
    empty = dict(batch_idx=torch.zeros(0, dtype=torch.long),
                 start=torch.zeros(0), end=torch.zeros(0))
    mined = dict(pp=dict(empty, label=torch.zeros(0, dtype=torch.long),
                         score=torch.zeros(0)),
                 rp=dict(empty, label=torch.zeros(0, dtype=torch.long),
                         score=torch.zeros(0),
                         pp_index=torch.zeros(0, dtype=torch.long),
                         point_index=torch.zeros(0, dtype=torch.long),
                         point_snippet=torch.zeros(0, dtype=torch.long),
                         point_label=torch.zeros(0, dtype=torch.long)),
                 np=empty)
    data = make_proposal_data(
        ['a', 'b'], mined, seed=stamp['seed'], checkpoint=stamp['checkpoint'],
        meta={k: stamp[k] for k in ('stage1_iters', 'np_ratio', 'rp_mode',
                                    'weights', 'videos', 'proposal_cfg')})
    save_proposals(path, data)


def _mined(tmp_path):
    """A hook, model, dataset and a mining file written from them."""
    hook = ProposalMiningHook()
    model, ds = _Model(), _Dataset()
    stamp = hook._stamp(_runner(model), ds)
    path = str(tmp_path / 'mined_proposals.pt')
    _write(path, stamp)
    return hook, model, ds, stamp, path


def test_reuse_only_for_the_same_inputs(tmp_path):
    hook, model, ds, stamp, path = _mined(tmp_path)
    assert hook._reusable(path, stamp, ds)

    # another learning rate -> other stage-1 weights, same size and seed
    other = _Model()
    other.load_state_dict(model.state_dict())
    with torch.no_grad():
        other.neck.weight[0, 0] += 1e-3
    assert not hook._reusable(path, hook._stamp(_runner(other), ds), ds)

    # the instance head is not part of the stage-1 fingerprint
    same = _Model()
    same.load_state_dict(model.state_dict())
    with torch.no_grad():
        same.instance_head.weight += 1
    assert hook._reusable(path, hook._stamp(_runner(same), ds), ds)

    # another dataset of the same size: one point moved
    moved = _Dataset(points=(1, 5))
    assert not hook._reusable(path, hook._stamp(_runner(model), moved), moved)
    # another seed
    assert not hook._reusable(path, hook._stamp(_runner(model, 3), ds), ds)


def test_mismatch_is_said(tmp_path):
    hook, model, ds, stamp, path = _mined(tmp_path)
    logged = []
    import hrpro_plugin.engine.hooks.proposal_mining_hook as mod
    orig = mod.print_log
    mod.print_log = lambda msg, **k: logged.append(msg)
    try:
        moved = _Dataset(points=(1, 5))
        assert not hook._reusable(path, hook._stamp(_runner(model), moved),
                                  moved)
    finally:
        mod.print_log = orig
    assert len(logged) == 1
    assert 'the training videos or their points' in logged[0]
    assert 'stage-1 weights' not in logged[0]
    assert path in logged[0]


def test_fingerprints_are_stable():
    a, b = _Model(), _Model()
    b.load_state_dict(a.state_dict())
    assert (ProposalMiningHook.weights_fingerprint(a) ==
            ProposalMiningHook.weights_fingerprint(b))
    assert (ProposalMiningHook.dataset_fingerprint(_Dataset()) ==
            ProposalMiningHook.dataset_fingerprint(_Dataset()))
