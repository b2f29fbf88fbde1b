"""tools/test.py's MMAction2 flags: --show-dir/--interval plots, --dump
files that MMAction2's own eval_metric.py scores."""
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

from _helpers import REPO_ROOT, TINY_MODEL_OPTIONS, run_tool

EVAL_METRIC = None
try:
    import mmaction
    EVAL_METRIC = osp.join(osp.dirname(mmaction.__file__), '.mim', 'tools',
                           'analysis_tools', 'eval_metric.py')
except ImportError:  # pragma: no cover
    pass


@pytest.fixture(scope='module')
def tested(tiny_run, tmp_path_factory):
    work = str(tmp_path_factory.mktemp('test_flags'))
    dump = osp.join(work, 'dump.pkl')
    metrics = osp.join(work, 'metrics.json')
    run_tool('tools/test.py', tiny_run['config'],
             osp.join(tiny_run['work_dir'], 'stage2.pth'), '--data-root',
             tiny_run['data_root'], '--work-dir', work, '--show-dir',
             'plots', '--interval', '2', '--dump', dump, '--metrics-out',
             metrics, '--cfg-options', *TINY_MODEL_OPTIONS,
             env=dict(os.environ, OMP_NUM_THREADS='1'))
    with open(metrics) as f:
        return work, dump, json.load(f)


def test_show_dir_plots_every_interval_th_video(tested, tiny_run):
    work, _, _ = tested
    (folder, ) = glob.glob(osp.join(work, '*', 'plots'))
    with open(osp.join(tiny_run['data_root'], 'split_test.txt')) as f:
        videos = [line.strip() for line in f if line.strip()]
    # 5 test videos, --interval 2: the 1st, 3rd and 5th in test order
    assert sorted(os.listdir(folder)) == sorted(
        f'{v}.png' for v in videos[::2])


def test_dump_scores_with_mmaction_eval_metric(tested, tiny_run):
    _, dump, metrics = tested
    proc = subprocess.run(
        [sys.executable, EVAL_METRIC, tiny_run['config'], dump],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, OMP_NUM_THREADS='1',
                 PYTHONPATH=REPO_ROOT))
    assert proc.returncode == 0, proc.stderr[-3000:]
    offline = {k: float(v) for k, v in re.findall(
        r"'(mAP[^']*)': ([0-9.eE+-]+)", proc.stdout)}
    assert offline and offline == pytest.approx(metrics, abs=1e-9)


def test_metric_without_dataset_meta_reads_classes_from_samples():
    import torch
    from hrpro_plugin.evaluation import TALmAPMetric
    sample = dict(
        video_name='v', classes=('a', 'b'),
        gt_instances=dict(segments=torch.tensor([[0., 2.]]),
                          labels=torch.tensor([1])),
        pred_instances=dict(segments=torch.tensor([[0., 2.], [5., 6.]]),
                            labels=torch.tensor([1, 0]),
                            scores=torch.tensor([0.9, 0.8])))
    metric = TALmAPMetric(tiou_thresholds=[0.5])
    metric.process(None, [sample])
    # class 'b' is found exactly: AP 100; class 'a' has no ground truth
    assert metric.evaluate(1)['mAP@0.50'] == pytest.approx(100.0)
    bare = dict(sample)
    bare.pop('classes')
    metric = TALmAPMetric(tiou_thresholds=[0.5])
    metric.process(None, [bare])
    with pytest.raises(ValueError, match='needs the class names'):
        metric.evaluate(1)
