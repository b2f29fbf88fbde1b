"""Same seed, same machine, CPU: two runs give the same checkpoint (every
tensor equal) and the same mAP, to the last printed digit, and the same
results file. What is and is not deterministic on GPUs: docs/reliability.md."""
import os.path as osp

import pytest

from reliability._runs import (TEST_CONFIG, assert_same_state,
                               run_test_tool, train)


@pytest.mark.slow
def test_same_seed_same_results(reference_run, tmp_path):
    work_dir = str(tmp_path / 'work')
    train(reference_run['config'], reference_run['data_root'], work_dir)
    for name in ('stage1.pth', 'stage2.pth'):
        assert_same_state(osp.join(reference_run['work_dir'], name),
                          osp.join(work_dir, name))
    metrics, results = run_test_tool(
        TEST_CONFIG, osp.join(work_dir, 'stage2.pth'),
        reference_run['data_root'], str(tmp_path / 'test'),
        out=str(tmp_path / 'results.json'))
    assert metrics == reference_run['metrics']
    assert results == reference_run['results']
    assert 'mAP@0.50' in metrics
