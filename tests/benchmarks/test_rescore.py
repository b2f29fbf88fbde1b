"""``benchmarks/rescore.py``: oracle scores (best same-class tIoU) by hand,
tIoU-binned sums by hand, and its rows on a tiny stage-2 model."""
import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.structures import InstanceData

from _helpers import load_script
from _tiny_hrpro import C, D, tiny_hrpro


@pytest.fixture(scope='module')
def rescore():
    return load_script('benchmarks/rescore.py', 'rescore_under_test')


def test_oracle_scores_by_hand(rescore):
    gt_seg = [torch.tensor([[0.0, 4.0], [6.0, 8.0]]),
              torch.tensor([[2.0, 3.0]]), torch.zeros(0, 2)]
    gt_lab = [torch.tensor([0, 1]), torch.tensor([0]),
              torch.zeros(0, dtype=torch.long)]
    start = torch.tensor([1.0, 6.0, 6.0, 2.0, 0.0, 1.0])
    end = torch.tensor([5.0, 8.0, 7.0, 4.0, 1.0, 2.0])
    label = torch.tensor([0, 0, 1, 0, 1, 0])
    batch_idx = torch.tensor([0, 0, 0, 1, 1, 2])
    got = rescore.oracle_scores(start, end, label, batch_idx, gt_seg, gt_lab)
    # [1, 5] vs [0, 4]: 3 / 5; [6, 8] of class 0 matches no class-0 box;
    # [6, 7] vs [6, 8] (class 1): 1 / 2; video 1: [2, 4] vs [2, 3]: 1 / 2,
    # and it has no class 1; video 2 has no ground truth
    assert got.tolist() == pytest.approx([0.6, 0.0, 0.5, 0.5, 0.0, 0.0])


def test_fit_kind_by_hand(rescore):
    inst = torch.tensor([[2.0, 6.0]] * 5)
    start = torch.tensor([1.0, 3.0, 1.0, 2.0, 3.0])
    end = torch.tensor([7.0, 5.0, 5.0, 6.0, 6.0])
    # [1, 7] holds [2, 6]; [3, 5] inside; [1, 5] crosses the end; the exact
    # fit counts as holding; [3, 6] shares the end and lies inside
    assert rescore.fit_kind(start, end, inst).tolist() == [0, 1, 2, 0, 1]
    tiou, got = rescore.oracle_match(
        torch.tensor([1.0, 9.0]), torch.tensor([5.0, 10.0]),
        torch.tensor([0, 0]), torch.tensor([0, 0]),
        [torch.tensor([[0.0, 4.0], [8.0, 10.0]])], [torch.tensor([0, 0])])
    assert tiou.tolist() == pytest.approx([0.6, 0.5])
    assert got.tolist() == [[0.0, 4.0], [8.0, 10.0]]


def test_binned_sums_by_hand(rescore):
    tiou = torch.tensor([0.05, 0.1, 0.69, 0.7, 1.0, 0.95])
    oic = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    got = rescore.binned_sums(tiou, [oic, 2 * oic])
    # bins [0, .1) [.1, .3) [.3, .5) [.5, .7) [.7, .9) [.9, 1]
    assert got[:, 0].tolist() == [1, 1, 0, 1, 1, 2]
    assert got[:, 1].tolist() == [1, 2, 0, 3, 4, 11]
    assert got[:, 2].tolist() == [2, 4, 0, 6, 8, 22]
    rows = rescore.bin_rows(got)
    assert rows[5] == dict(tiou='0.9-1.0', rows=2, mean_oic=5.5,
                           mean_p_comp=11.0)
    assert rows[2]['mean_oic'] is None


def test_rank_correlation_by_hand(rescore):
    # ties share their mean rank: [1, 1, 2] -> [1.5, 1.5, 3]
    assert rescore.average_ranks(torch.tensor([2.0, 1.0, 1.0])).tolist() == \
        [3.0, 1.5, 1.5]
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert rescore.rank_correlation(x, x ** 3) == pytest.approx(1.0)
    assert rescore.rank_correlation(x, -x) == pytest.approx(-1.0)
    # ranks [1, 2, 3] and [1, 3, 2]: 1 - 6 * 2 / (3 * 8) = 0.5
    assert rescore.rank_correlation(torch.tensor([1.0, 2.0, 3.0]),
                                    torch.tensor([1.0, 3.0, 2.0])) == \
        pytest.approx(0.5)
    # ranks [1.5, 1.5, 3] against [1, 2, 3]: cov 1.5 / sqrt(1.5 * 2)
    assert rescore.rank_correlation(torch.tensor([0.0, 0.0, 1.0]), x[:3]) == \
        pytest.approx(1.5 / 3 ** 0.5)
    assert rescore.rank_correlation(x[:1], x[:1]) != \
        rescore.rank_correlation(x[:1], x[:1])   # NaN


def _sample(T=25, sec=0.64):
    ds = ActionDataSample()
    ds.set_metainfo(dict(video_name='a', num_snippets=T, snippet_seconds=sec,
                         duration=T * sec, fps=30.0))
    ds.gt_points = InstanceData(snippets=torch.tensor([2]),
                                labels=torch.tensor([0]))
    label = torch.zeros(C)
    label[0] = 1
    ds.set_field(label, 'gt_video_label')
    return ds


def test_rows_of_a_stage2_model(rescore):
    model = tiny_hrpro('normal').eval()
    model.switch_to_stage2()
    g = torch.Generator().manual_seed(2)
    feats = [torch.randn(25, D, generator=g)]
    sample = _sample()
    data = model.data_preprocessor(dict(inputs=feats, data_samples=[sample]),
                                   False)
    inputs, samples = data['inputs'], data['data_samples']
    with torch.no_grad():
        cand = model.snippet_pass(inputs, samples, candidates=True).candidates
    # the ground truth is the first candidate (in seconds) with its label
    s0, e0, c0 = (float(cand['start'][0]), float(cand['end'][0]),
                  int(cand['label'][0]))
    samples[0].gt_instances = InstanceData(
        segments=torch.tensor([[s0, e0]]) * 0.64, labels=torch.tensor([c0]))
    with torch.no_grad():
        rows = rescore.scored_rows(model, inputs, samples)
    assert list(rows) == ['stage 1', 'model', 'oracle, candidates',
                          'oracle, candidates + refined', 'terms']
    n = cand['start'].numel()
    s, e, lab, b, score = rows['stage 1']
    assert torch.equal(score, cand['score'].float())
    _, _, _, _, orc = rows['oracle, candidates']
    assert float(orc[0]) == pytest.approx(1.0)
    assert bool(((orc >= 0) & (orc <= 1)).all())
    # the stage-2 rows: the n candidates, then the valid refined copies
    fs, fe, flab, fb, fscore = rows['model']
    assert n < fs.numel() <= 2 * n
    assert torch.equal(fs[:n], s) and torch.equal(flab[:n], lab)
    # every stage-2 score is its candidate's OIC plus a p_comp in (0, 1)
    extra = fscore[:n] - cand['score'].float()
    assert bool(((extra > 0) & (extra < 1)).all())
    tiou, oic, p_comp, kind = rows['terms']
    assert int(kind[0]) == 0                      # an exact fit "holds"
    assert torch.equal(tiou, rows['oracle, candidates + refined'][4])
    assert torch.allclose(oic + p_comp, fscore)
    assert float(tiou[0]) == pytest.approx(1.0)   # the exact copy
    dets = model.detect(samples, fs, fe, flab, fb, fscore,
                        torch.zeros(1, C))
    assert len(dets[0].pred_instances) == fs.numel()   # no top-k by default


def _cells(out):
    return [[c.strip() for c in line.strip('|').split('|')]
            for line in out.splitlines() if line.startswith('|')]


def test_printed_tables(rescore, capsys):
    rescore.print_table({'stage 1': {'mAP@0.70': 12.345, 'mAP_avg': 40.0},
                         'model': {'mAP@0.70': 11.0}})
    assert _cells(capsys.readouterr().out) == [
        ['scores', 'mAP@0.70', 'mAP_avg'], ['stage 1', '12.35', '40.00'],
        ['model', '11.00', '']]
    bins = rescore.binned_sums(torch.tensor([0.95, 0.05]),
                               [torch.tensor([0.5, 0.1]),
                                torch.tensor([0.25, 0.2])])
    rescore.print_bins(bins)
    rows = _cells(capsys.readouterr().out)
    assert rows[0] == ['true tIoU', 'stage-2 rows', 'mean OIC', 'mean p_comp']
    assert rows[1] == ['0.0-0.1', '1', '0.100', '0.200']
    assert rows[2] == ['0.1-0.3', '0', '', '']
    assert rows[6] == ['0.9-1.0', '1', '0.500', '0.250']
    # split by fit: one row a bin and kind, the kinds in FITS order
    rescore.print_bins([bins, torch.zeros_like(bins), bins])
    rows = _cells(capsys.readouterr().out)
    assert len(rows) == 1 + 6 * 3
    assert rows[-3:] == [
        ['0.9-1.0', 'holds its instance (too long)', '1', '0.500', '0.250'],
        ['0.9-1.0', 'inside its instance (too short)', '0', '', ''],
        ['0.9-1.0', 'shifted', '1', '0.500', '0.250']]
