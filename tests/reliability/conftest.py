"""The deterministic reference run shared by test_resume.py and
test_determinism.py."""
import os.path as osp

import pytest

from reliability._runs import (TEST_CONFIG, run_test_tool, train,
                               write_config)


@pytest.fixture(scope='session')
def reference_run(tiny_dataset, tmp_path_factory):
    """An uninterrupted deterministic two-stage run (seed 0, RNGStateHook),
    and its tools/test.py metrics and results JSON."""
    root = tmp_path_factory.mktemp('reference_run')
    config = write_config(root / 'hrpro_rel.py')
    work_dir = str(root / 'work')
    train(config, tiny_dataset, work_dir)
    metrics, results = run_test_tool(
        TEST_CONFIG, osp.join(work_dir, 'stage2.pth'), tiny_dataset,
        str(root / 'test'), out=str(root / 'results.json'))
    return dict(config=config, work_dir=work_dir, data_root=tiny_dataset,
                metrics=metrics, results=results, root=root)
