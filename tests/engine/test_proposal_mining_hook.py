"""ProposalMiningHook reuses a mining file only when it was mined from the
same stage-1 weights, videos, points and settings."""
import types

import numpy as np
import torch

from hrpro_plugin.engine.hooks.proposal_mining_hook import ProposalMiningHook
from hrpro_plugin.fileio.proposal_file import (make_proposal_data,
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


def test_mining_is_the_stage1_pass_then_mine_proposals(tmp_path):
    """mine() over a dataset in batches of 2 gives, video by video, what
    the stage-1 pass composed by hand gives: mask, extract, point labels,
    pseudo background seeds, candidates (not capped), mine_proposals with
    one seeded generator, then the file format."""
    from mmengine.dataset import pseudo_collate

    from engine._stage1_data import VIDEOS, PackedDataset, small_model
    from hrpro_plugin.fileio import concat_mined, load_proposals
    from hrpro_plugin.models.instance_level.mining import mine_proposals
    from hrpro_plugin.models.proposals.candidates import generate_candidates
    from hrpro_plugin.models.snippet_level.pseudo_snippets import \
        mine_pseudo_snippets
    from hrpro_plugin.models.utils import batch_point_labels

    model = small_model()
    model.test_cfg['max_candidates'] = 1    # mining never caps
    ds = PackedDataset()
    stamp = dict(seed=5, checkpoint='run@iter1', stage1_iters=1,
                 np_ratio=0.5, rp_mode='reliable', weights='w', videos='v',
                 proposal_cfg='p')
    path = str(tmp_path / 'mined_proposals.pt')
    data = ProposalMiningHook(batch_size=2).mine(model, ds, path, stamp)

    generator = torch.Generator().manual_seed(5)
    parts = []
    with torch.no_grad():
        for chunk in ([0, 1], [2]):
            batch = model.data_preprocessor(
                pseudo_collate([ds[i] for i in chunk]), False)
            x, samples = batch['inputs'], batch['data_samples']
            mask = model.masks_for(x, samples)
            out = model.extract(x, mask)
            points = batch_point_labels(samples, x.shape[1], 3)
            _, bg = mine_pseudo_snippets(points, out['bg'], mask)
            cand = generate_candidates(out['fused_cas'], out['attn'],
                                       out['video_scores'], mask)
            parts.append((mine_proposals(
                cand, [s.gt_points for s in samples], bg, mask,
                generator=generator, np_ratio=0.5), len(chunk)))
    ref = concat_mined(parts)
    back = load_proposals(path)
    assert back['video_names'] == ['v0', 'v1', 'v2']
    assert back['num_snippets'].tolist() == [30, 17, 25]
    assert back['seed'] == 5 and back['meta']['weights'] == 'w'
    assert ref['pp']['start'].numel() > 3   # more than one a video
    for name in ('pp', 'rp', 'np'):
        order = torch.sort(ref[name]['batch_idx'], stable=True).indices
        assert torch.equal(back[name]['video_index'],
                           ref[name]['batch_idx'][order])
        for key in ('start', 'end'):
            assert torch.equal(back[name][key], ref[name][key][order])
            assert torch.equal(data[name][key], back[name][key])
    # every RP comes from a point of its video
    pts = {(i, t) for i, (_, p) in enumerate(VIDEOS) for t, _ in p}
    got = set(zip(back['rp']['video_index'].tolist(),
                  back['rp']['point_snippet'].tolist()))
    assert got and got <= pts
    assert not model.training
