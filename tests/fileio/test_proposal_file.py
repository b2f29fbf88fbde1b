"""Round trip and validation of the mining-output file."""
import os

import pytest
import torch

import hrpro_plugin  # noqa: F401  (applies compat before mmaction)
from hrpro_plugin.fileio.proposal_file import (
    FORMAT_VERSION, ProposalFileError, concat_mined, load_proposals,
    make_proposal_data, proposals_for_video, save_proposals)
from hrpro_plugin.models.instance_level.mining import mine_proposals
from hrpro_plugin.models.instance_level.stage2_batch import \
    gather_mined_proposals
from mmaction.structures import ActionDataSample


def _batch(rows, points, bg_spans, T=20, seed=0):
    t = torch.tensor(rows, dtype=torch.float64)
    cand = dict(batch_idx=t[:, 0].long(), start=t[:, 1].float(),
                end=t[:, 2].float(), label=t[:, 3].long(),
                score=t[:, 4].float())
    B = len(points)
    bg = torch.zeros(B, T, dtype=torch.bool)
    for b, a, e in bg_spans:
        bg[b, a:e] = True
    pts = [dict(snippets=torch.tensor(s), labels=torch.tensor(c))
           for s, c in points]
    return mine_proposals(cand, pts, bg, torch.ones(B, T, dtype=torch.bool),
                          seed=seed)


@pytest.fixture
def data():
    # batch 1: videos a, b (PP of video b listed first: the file sorts them)
    m1 = _batch([(1, 0.0, 4.0, 1, 0.4), (0, 2.0, 6.0, 0, 0.5),
                 (0, 1.0, 3.0, 0, 0.2), (1, 8.0, 9.0, 1, 0.1)],
                [([3], [0]), ([2, 8], [1, 1])], [(0, 10, 14), (1, 15, 20)])
    # batch 2: video c
    m2 = _batch([(0, 5.0, 7.5, 2, 0.3), (0, 0.0, 1.0, 2, -0.1)],
                [([6], [2])], [(0, 12, 13)])
    mined = concat_mined([(m1, 2), (m2, 1)])
    return make_proposal_data(['a', 'b', 'c'], mined, seed=0,
                              checkpoint='stage1/epoch_1.pth',
                              num_snippets=[20, 20, 20],
                              meta=dict(classes=['x', 'y', 'z']))


def test_round_trip(tmp_path, data):
    path = str(tmp_path / 'sub' / 'proposals.pt')
    save_proposals(path, data)
    assert os.listdir(tmp_path / 'sub') == ['proposals.pt']   # no tmp left
    back = load_proposals(path)
    for k in ('format', 'version', 'units', 'seed', 'checkpoint',
              'video_names', 'meta'):
        assert back[k] == data[k]
    assert torch.equal(back['num_snippets'], data['num_snippets'])
    for s in ('pp', 'rp', 'np'):
        assert set(back[s]) == set(data[s])
        for k in data[s]:
            assert torch.equal(back[s][k], data[s][k])
    # sorted by video; rp.pp_index follows the sorted PP
    assert back['pp']['video_index'].tolist() == [0, 0, 1, 1, 2, 2]
    assert back['rp']['video_index'].tolist() == [0, 1, 1, 2]
    pi = back['rp']['pp_index']
    assert torch.equal(back['pp']['start'][pi], back['rp']['start'])
    assert torch.equal(back['pp']['end'][pi], back['rp']['end'])
    # NP: int(0.5 x #PP): 1, 1, 1
    assert back['np']['video_index'].tolist() == [0, 1, 2]
    # overwrite in place; the load-time caches are not written
    proposals_for_video(back, 'a')
    save_proposals(path, back)
    raw = torch.load(path, weights_only=True)
    assert 'offsets' not in raw and '_name_index' not in raw
    assert os.listdir(tmp_path / 'sub') == ['proposals.pt']


def test_per_video_access(tmp_path, data):
    path = str(tmp_path / 'p.pt')
    save_proposals(path, data)
    back = load_proposals(path)
    b = proposals_for_video(back, 'b')
    assert b['pp']['start'].tolist() == [0.0, 8.0]
    assert b['pp']['label'].tolist() == [1, 1]
    # video b's points at snippets 2 and 8 -> its PP 0 and 1
    assert b['rp']['pp_index'].tolist() == [0, 1]
    assert b['rp']['point_snippet'].tolist() == [2, 8]
    assert b['np']['start'].numel() == 1
    assert 15 <= b['np']['start'].item() < b['np']['end'].item() <= 20
    c = proposals_for_video(back, 'c')
    assert c['rp']['start'].tolist() == [5.0]
    with pytest.raises(KeyError, match='zz'):
        proposals_for_video(back, 'zz')
    # what LoadMinedProposals puts on each sample, batched for stage 2
    samples = []
    for name in ('c', 'a'):
        ds = ActionDataSample()
        ds.set_metainfo(dict(video_name=name,
                             mined_proposals=proposals_for_video(back, name)))
        samples.append(ds)
    batch = gather_mined_proposals(samples)
    assert batch['pp']['batch_idx'].tolist() == [0, 0, 1, 1]
    assert batch['pp']['start'].tolist() == [5.0, 0.0, 2.0, 1.0]
    pi = batch['rp']['pp_index']
    assert torch.equal(batch['pp']['start'][pi], batch['rp']['start'])
    assert batch['rp']['batch_idx'].tolist() == [0, 1]


def test_errors_name_the_file(tmp_path, data):
    bad_version = dict(data, version=FORMAT_VERSION + 1)
    path = str(tmp_path / 'v.pt')
    torch.save(bad_version, path)
    with pytest.raises(ProposalFileError, match='v.pt.*version'):
        load_proposals(path)

    missing = {k: v for k, v in data.items() if k != 'np'}
    path = str(tmp_path / 'm.pt')
    torch.save(missing, path)
    with pytest.raises(ProposalFileError, match="m.pt.*'np'"):
        load_proposals(path)

    no_col = dict(data, rp={k: v for k, v in data['rp'].items()
                            if k != 'pp_index'})
    path = str(tmp_path / 'c.pt')
    torch.save(no_col, path)
    with pytest.raises(ProposalFileError, match="c.pt.*pp_index"):
        load_proposals(path)

    path = str(tmp_path / 'corrupt.pt')
    with open(path, 'wb') as f:
        f.write(b'not a torch file at all')
    with pytest.raises(ProposalFileError, match='corrupt.pt'):
        load_proposals(path)

    with pytest.raises(ProposalFileError, match='absent.pt'):
        load_proposals(str(tmp_path / 'absent.pt'))

    bad_rows = dict(data, np=dict(data['np'], start=data['np']['start'][:1]))
    with pytest.raises(ProposalFileError, match='out.pt'):
        save_proposals(str(tmp_path / 'out.pt'), bad_rows)
    assert not os.path.exists(tmp_path / 'out.pt')
