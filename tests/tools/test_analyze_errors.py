"""tools/analyze_errors.py on hand-made files (the predictions of
tests/evaluation/test_error_analysis.py: one of each error type)."""
import json
import os
import os.path as osp

import numpy as np
import pytest

from _helpers import load_script, run_tool
from hrpro_plugin.evaluation.functional import write_results

GT_DB = {'database': {
    'v1': {'subset': 'Test', 'duration': 170.0, 'fps': 25.0, 'annotations': [
        {'label': 'a', 'segment': [0, 10]},
        {'label': 'b', 'segment': [20, 30]},
        {'label': 'a', 'segment': [40, 50]},
        {'label': 'a', 'segment': [60, 61]},
        {'label': 'a', 'segment': [80, 83]},
        {'label': 'a', 'segment': [100, 120]},
    ]},
    'v_train': {'subset': 'Validation', 'duration': 20.0, 'fps': 25.0,
                'annotations': [{'label': 'a', 'segment': [1, 2]}]},
}}
# TP, double, wrong label, localization, confusion, background x2, TP; b: TP
PREDS = [([0, 10], 0, 0.90), ([1, 10], 0, 0.80), ([20, 30], 0, 0.70),
         ([40, 44], 0, 0.60), ([20, 24], 0, 0.50), ([130, 140], 0, 0.40),
         ([150, 160], 0, 0.35), ([60, 61], 0, 0.30), ([20, 30], 1, 0.95)]


@pytest.fixture
def files(tmp_path):
    gt = tmp_path / 'gt_full.json'
    gt.write_text(json.dumps(GT_DB))
    split = tmp_path / 'split_test.txt'
    split.write_text('v1\n')
    pred = tmp_path / 'run' / 'results.json'
    write_results(str(pred), {
        'v1': (np.array([p[0] for p in PREDS], dtype=float),
               np.array([p[1] for p in PREDS]),
               np.array([p[2] for p in PREDS])),
        # a video outside the split: ignored, as tools/eval_map.py does
        'v_train': (np.array([[0.0, 5.0]]), np.array([0]), np.array([1.0])),
    }, ['a', 'b'])
    return dict(gt=str(gt), split=str(split), pred=str(pred))


def row(text, *cells):
    """The table line whose cells are ``cells`` (terminaltables layout)."""
    for line in text.splitlines():
        got = [c.strip() for c in line.strip().strip('|').split('|')]
        if got == list(cells):
            return line
    raise AssertionError(f'no row {cells} in:\n{text}')


def test_tables_json_and_figure(files, capsys):
    tool = load_script('tools/analyze_errors.py', '_tool_analyze_errors')
    summary = tool.main(['--gt', files['gt'], '--pred', files['pred'],
                         '--split', files['split'], '--profile-max', '2'])
    out = capsys.readouterr().out
    assert out.startswith('1 videos, 6 ground-truth segments, 9 '
                          'predictions; tIoU 0.5, top-1G a class')
    # top-1G: class a's 5 best + class b's one (6 analysed)
    row(out, 'true positive', '2', '33.3')
    for name in ('double detection', 'wrong label', 'localization error',
                 'confusion'):
        row(out, name, '1', '16.7')
    row(out, 'background', '0', '0.0')
    row(out, 'analysed (top-1G)', '6', '100.0')
    # profile: top-2G holds all 9 predictions (3 TP, 2 background)
    row(out, 'true positive', '33.3', '33.3')
    row(out, 'background', '0.0', '22.2')
    # false negatives: g3 (1 s) is matched at rank 7, outside the top-1G
    row(out, '(0, 2] s', '1', '100.0')
    row(out, '(4, 8] s', '0', '-')
    row(out, '(8, 16] s', '3', '33.3')
    row(out, '1', '1', '0.0')
    row(out, '5-8', '5', '80.0')
    # gains (test_error_analysis: base (0.25 + 1) / 2, +1/280, +1/120)
    row(out, 'nothing', '62.50', '')
    row(out, 'double detection', '62.86', '+0.36')
    row(out, 'background', '63.33', '+0.83')
    row(out, 'all false positives', '70.00', '+7.50')

    out_dir = osp.join(osp.dirname(files['pred']), 'error_analysis')
    assert sorted(os.listdir(out_dir)) == ['error_analysis.json',
                                           'error_analysis.png']
    with open(osp.join(out_dir, 'error_analysis.json')) as f:
        saved = json.load(f)
    assert saved['breakdown'] == summary['breakdown'] == dict(
        true_positive=2, double_detection=1, wrong_label=1, localization=1,
        confusion=1, background=0)
    assert saved['gains']['background'] == pytest.approx(1 / 120)
    assert saved['classes'] == ['a', 'b']
    with open(osp.join(out_dir, 'error_analysis.png'), 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'


def test_cli_options_and_inputs_untouched(files, tmp_path):
    before = {k: open(v, 'rb').read() for k, v in files.items()}
    out_dir = tmp_path / 'ea'
    proc = run_tool('tools/analyze_errors.py', '--gt', files['gt'], '--pred',
                    files['pred'], '--split', files['split'], '--tiou',
                    '0.35', '--top-multiple', '2', '--no-figure',
                    '--out-dir', out_dir)
    assert 'ignored predictions of 1 videos' in proc.stderr
    # at tIoU 0.35 the localization error (0.4) is a true positive; top-2G
    # holds everything
    assert 'top-2G predictions at tIoU 0.35' in proc.stdout
    row(proc.stdout, 'true positive', '4', '44.4')
    row(proc.stdout, 'localization error', '0', '0.0')
    assert sorted(os.listdir(out_dir)) == ['error_analysis.json']
    assert {k: open(v, 'rb').read() for k, v in files.items()} == before

    # an output that would overwrite an input is refused (in-process: faster)
    tool = load_script('tools/analyze_errors.py', '_tool_analyze_errors')
    clash = tmp_path / 'clash'
    clash.mkdir()
    pred = clash / 'error_analysis.json'
    pred.write_bytes(before['pred'])
    with pytest.raises(SystemExit, match='is an input file'):
        tool.main(['--gt', files['gt'], '--pred', str(pred), '--split',
                   files['split'], '--out-dir', str(clash)])
    assert pred.read_bytes() == before['pred']
    with pytest.raises(SystemExit) as err:
        tool.main(['--gt', files['gt'], '--pred', files['pred'], '--split',
                   files['split'], '--tiou', '0.05'])
    assert err.value.code == 2
    with pytest.raises(SystemExit, match='no.json'):
        tool.main(['--gt', files['gt'], '--pred', str(tmp_path / 'no.json'),
                   '--split', files['split']])
