"""``gather_mined_proposals``: the per-video mined sets of a stage-2 batch
(as ``LoadMinedProposals`` puts them on each sample) become flat column
tensors whose ``batch_idx`` is the video's position in the batch."""
import pytest
import torch
from mmaction.structures import ActionDataSample

from hrpro_plugin.models.instance_level.stage2_batch import \
    gather_mined_proposals

F, L = torch.float32, torch.long


def _sample(name, mined):
    ds = ActionDataSample()
    meta = dict(video_name=name)
    if mined is not None:
        meta['mined_proposals'] = mined
    ds.set_metainfo(meta)
    return ds


def _video_a():
    # 2 PP, 1 RP (from PP 1), 1 NP
    return dict(
        pp=dict(start=torch.tensor([1.0, 4.5], dtype=F),
                end=torch.tensor([3.0, 9.0], dtype=F),
                label=torch.tensor([2, 0], dtype=L),
                score=torch.tensor([0.25, 0.5], dtype=F)),
        rp=dict(start=torch.tensor([4.5], dtype=F),
                end=torch.tensor([9.0], dtype=F),
                label=torch.tensor([0], dtype=L),
                score=torch.tensor([0.5], dtype=F),
                pp_index=torch.tensor([1], dtype=L),
                point_snippet=torch.tensor([6], dtype=L),
                point_label=torch.tensor([0], dtype=L)),
        np=dict(start=torch.tensor([12.0], dtype=F),
                end=torch.tensor([14.0], dtype=F)))


def _video_b():
    # 3 PP, 2 RP (from PP 2 and 0 of this video), no NP
    return dict(
        pp=dict(start=torch.tensor([0.0, 2.0, 7.0], dtype=F),
                end=torch.tensor([1.5, 6.0, 8.0], dtype=F),
                label=torch.tensor([1, 1, 3], dtype=L),
                score=torch.tensor([0.125, -0.5, 0.75], dtype=F)),
        rp=dict(start=torch.tensor([7.0, 0.0], dtype=F),
                end=torch.tensor([8.0, 1.5], dtype=F),
                label=torch.tensor([3, 1], dtype=L),
                score=torch.tensor([0.75, 0.125], dtype=F),
                pp_index=torch.tensor([2, 0], dtype=L),
                point_snippet=torch.tensor([7, 1], dtype=L),
                point_label=torch.tensor([3, 1], dtype=L)),
        np=dict(start=torch.zeros(0, dtype=F), end=torch.zeros(0, dtype=F)))


def test_two_videos_flat_columns_by_hand():
    """Video a (position 0) then video b (position 1): each column is a's
    rows then b's; ``batch_idx`` is 0 for a's rows, 1 for b's; an RP's
    ``pp_index`` moves past a's 2 PP (b's 2, 0 -> 4, 2), so it still
    points at its own PP in the flat PP columns."""
    out = gather_mined_proposals([_sample('a', _video_a()),
                                  _sample('b', _video_b())])
    assert set(out) == {'pp', 'rp', 'np'}
    pp, rp, np_ = out['pp'], out['rp'], out['np']
    assert pp['batch_idx'].tolist() == [0, 0, 1, 1, 1]
    assert pp['start'].tolist() == [1.0, 4.5, 0.0, 2.0, 7.0]
    assert pp['end'].tolist() == [3.0, 9.0, 1.5, 6.0, 8.0]
    assert pp['label'].tolist() == [2, 0, 1, 1, 3]
    assert pp['score'].tolist() == [0.25, 0.5, 0.125, -0.5, 0.75]
    assert rp['batch_idx'].tolist() == [0, 1, 1]
    assert rp['start'].tolist() == [4.5, 7.0, 0.0]
    assert rp['end'].tolist() == [9.0, 8.0, 1.5]
    assert rp['label'].tolist() == [0, 3, 1]
    assert rp['pp_index'].tolist() == [1, 4, 2]
    assert rp['point_snippet'].tolist() == [6, 7, 1]
    assert rp['point_label'].tolist() == [0, 3, 1]
    assert np_['batch_idx'].tolist() == [0]
    assert np_['start'].tolist() == [12.0] and np_['end'].tolist() == [14.0]
    assert pp['batch_idx'].dtype == rp['batch_idx'].dtype == torch.long
    assert pp['start'].dtype == torch.float32
    # every RP is the PP its pp_index names
    assert pp['start'][rp['pp_index']].tolist() == rp['start'].tolist()
    assert pp['end'][rp['pp_index']].tolist() == rp['end'].tolist()


def test_batch_order_decides_batch_idx():
    """The same two videos in the other order: b's rows first, b -> 0."""
    out = gather_mined_proposals([_sample('b', _video_b()),
                                  _sample('a', _video_a())])
    assert out['pp']['batch_idx'].tolist() == [0, 0, 0, 1, 1]
    assert out['pp']['start'].tolist() == [0.0, 2.0, 7.0, 1.0, 4.5]
    assert out['rp']['batch_idx'].tolist() == [0, 0, 1]
    # b's RP keep 2, 0; a's RP moves past b's 3 PP: 1 -> 4
    assert out['rp']['pp_index'].tolist() == [2, 0, 4]
    assert out['np']['batch_idx'].tolist() == [1]


def test_samples_keep_their_own_columns():
    """Gathering does not write into the samples' tensors (they are reused
    every epoch): each video's columns keep their per-video values."""
    samples = [_sample('a', _video_a()), _sample('b', _video_b())]
    gather_mined_proposals(samples)
    gather_mined_proposals(samples)
    b = samples[1].metainfo['mined_proposals']
    assert b['rp']['pp_index'].tolist() == [2, 0]
    assert b['pp']['start'].tolist() == [0.0, 2.0, 7.0]
    for cols in b.values():
        assert 'batch_idx' not in cols
    again = gather_mined_proposals(samples)
    assert again['rp']['pp_index'].tolist() == [1, 4, 2]


def test_device_argument_moves_every_column():
    out = gather_mined_proposals([_sample('a', _video_a())],
                                 device=torch.device('cpu'))
    for cols in out.values():
        for value in cols.values():
            assert value.device.type == 'cpu'
    assert out['pp']['batch_idx'].tolist() == [0, 0]


def test_missing_mined_proposals_names_the_video():
    with pytest.raises(ValueError, match="video b has no mined proposals"):
        gather_mined_proposals([_sample('a', _video_a()),
                                _sample('b', None)])
