"""End to end: tools/train.py trains both stages, tools/test.py scores them."""
import json
import os.path as osp

import pytest
import torch

from _helpers import run_tool


@pytest.mark.slow
def test_two_stage_run_writes_stage_checkpoints_and_mining(tiny_run):
    wd = tiny_run['work_dir']
    for name in ('stage1.pth', 'stage2.pth', 'mined_proposals.pt'):
        assert osp.isfile(osp.join(wd, name)), name
    s1 = torch.load(osp.join(wd, 'stage1.pth'), weights_only=False)
    s2 = torch.load(osp.join(wd, 'stage2.pth'), weights_only=False)
    assert int(s1['state_dict']['stage']) == 1
    assert int(s2['state_dict']['stage']) == 2
    assert s2['meta']['iter'] == 12 + 2 * 3  # 10 videos / batch 4 = 3 a epoch
    assert list(s2['meta']['dataset_meta']['classes']) == \
        list(s1['meta']['dataset_meta']['classes'])
    # stage 2 leaves the stage-1 network and the memory untouched
    for key, value in s1['state_dict'].items():
        if key.startswith(('neck.', 'head.', 'memory.')):
            assert torch.equal(value, s2['state_dict'][key]), key
    changed = [k for k in s1['state_dict'] if k.startswith('instance_head.')
               and not torch.equal(s1['state_dict'][k], s2['state_dict'][k])]
    assert changed, 'stage 2 did not train the instance head'


@pytest.mark.slow
def test_test_tool_prints_table_and_writes_results(tiny_run, tmp_path):
    out = tmp_path / 'results.json'
    proc = run_tool('tools/test.py', tiny_run['config'],
                    osp.join(tiny_run['work_dir'], 'stage2.pth'),
                    '--data-root', tiny_run['data_root'],
                    '--work-dir', str(tmp_path), '--out', str(out))
    text = proc.stdout + proc.stderr
    assert 'avg [0.1:0.7]' in text and 'mAP@0.70' in text
    results = json.loads(out.read_text())
    assert set(results) >= {'version', 'results', 'external_data'}
    assert len(results['results']) == 5
    for video, preds in results['results'].items():
        for p in preds:
            assert 0 <= p['segment'][0] < p['segment'][1]
            assert p['label'] in ('class_0', 'class_1', 'class_2') or p['label']
