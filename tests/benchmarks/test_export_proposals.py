"""``benchmarks/parity/export_proposals.py``: our mined sets in the layout
the reference's stage 2 reads (PP / RP in seconds by class name, NP in
snippets), checked by hand on a two-video proposal dict."""
import pytest
import torch

from _helpers import load_script

from hrpro_plugin.fileio.proposal_file import make_proposal_data


@pytest.fixture(scope='module')
def export():
    return load_script('benchmarks/parity/export_proposals.py',
                       'export_proposals_under_test')


def _mined():
    t = torch.tensor
    return dict(
        pp=dict(batch_idx=t([1, 0, 0]), start=t([2.0, 0.5, 10.0]),
                end=t([5.0, 3.0, 12.5]), label=t([1, 0, 1]),
                score=t([0.9, 0.25, 0.5])),
        rp=dict(batch_idx=t([0]), start=t([0.5]), end=t([3.0]),
                label=t([0]), score=t([0.25]), pp_index=t([1]),
                point_snippet=t([1]), point_label=t([0])),
        np=dict(batch_idx=t([1, 1]), start=t([7.0, 8.0]),
                end=t([9.0, 8.0 + 1.0])))


def test_train_part_by_hand(export):
    data = make_proposal_data(['va', 'vb'], _mined(), seed=0,
                              checkpoint='ck')
    out = export.train_part(data, ['Jump', 'Run'], sec=0.64)
    assert set(out) == {'va', 'vb'}
    va, vb = out['va'], out['vb']
    assert va['PP'] == {'Jump': [[pytest.approx(0.32), pytest.approx(1.92),
                                  pytest.approx(0.25)]],
                        'Run': [[pytest.approx(6.4), pytest.approx(8.0),
                                 pytest.approx(0.5)]]}
    assert va['RP'] == {'Jump': [[pytest.approx(0.32), pytest.approx(1.92),
                                  pytest.approx(0.25)]]}
    assert va['NP'] == []
    assert vb['PP'] == {'Run': [[pytest.approx(1.28), pytest.approx(3.2),
                                 pytest.approx(0.9)]]}
    assert vb['RP'] == {}
    # NP stay in snippets (the reference's loader takes them as they are)
    assert vb['NP'] == [[7.0, 9.0, 0.0], [8.0, 9.0, 0.0]]
