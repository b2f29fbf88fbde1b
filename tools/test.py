"""Test a trained HR-Pro checkpoint and print the mAP table.

Same flags as MMAction2's tools/test.py (``--work-dir``, ``--dump``,
``--show-dir``, ``--show``, ``--interval``, ``--wait-time``,
``--cfg-options``, ``--launcher``), plus ``--data-root DIR``, ``--out
results.json`` (ActivityNet-style results file), ``--metrics-out`` and
``--per-class``. A ``--dump`` file scores with MMAction2's
``tools/analysis_tools/eval_metric.py CONFIG FILE``.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import hrpro_plugin  # noqa: E402,F401
from mmengine.config import Config  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from mmaction.registry import RUNNERS  # noqa: E402

from hrpro_plugin.apis import (add_runner_args, apply_runner_args,  # noqa: E402
                               close_distributed, fill_from_checkpoint)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test HR-Pro')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where logs and metrics go')
    parser.add_argument('--out', help='write predictions as an ActivityNet '
                        'results JSON file')
    parser.add_argument('--dump', type=str,
                        help='dump raw predictions to a pickle file')
    parser.add_argument('--metrics-out',
                        help='also write the metrics as a JSON file')
    parser.add_argument('--per-class', action='store_true',
                        help='also print per-class AP')
    parser.add_argument('--show-dir', help='write a plot of each test video '
                        '(ground truth and top predictions) to this folder; '
                        'a relative path goes under the run\'s log folder')
    parser.add_argument('--show', action='store_true',
                        help='show each plot in a window (needs a display)')
    parser.add_argument('--interval', type=int, default=1,
                        help='plot every n-th test video (default 1: all)')
    parser.add_argument('--wait-time', type=float, default=2,
                        help='seconds each --show window stays up')
    add_runner_args(parser)
    return parser.parse_args(argv)


def merge_args(cfg, args):
    apply_runner_args(cfg, args)
    # no output may replace an input (the dataset's gt_full.json, a split,
    # the point CSV, the ambiguous file, the config or the checkpoint)
    from hrpro_plugin.evaluation.functional.results_io import (
        config_input_files, refuse_overwriting_inputs)
    inputs = [args.config, args.checkpoint, *config_input_files(cfg)]
    for flag, path in (('--out', args.out), ('--dump', args.dump),
                       ('--metrics-out', args.metrics_out)):
        refuse_overwriting_inputs(path, inputs, flag=flag)
    evaluators = cfg.test_evaluator
    if not isinstance(evaluators, (list, tuple)):
        evaluators = [evaluators]
    for ev in evaluators:
        if ev.get('type') == 'TALmAPMetric':
            if args.out:
                ev['out_file'] = args.out
            if args.per_class:
                ev['per_class'] = True
    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ValueError('--dump must end in .pkl or .pickle')
        evaluators = list(evaluators) + [
            dict(type='DumpTALResults', out_file_path=args.dump)]
    cfg.test_evaluator = evaluators if len(evaluators) > 1 else evaluators[0]
    if args.show_dir or args.show:
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(type='TALVisualizationHook', out_dir=args.show_dir,
                 show=args.show, wait_time=args.wait_time,
                 interval=args.interval)]
    # loaded strictly in main(): mmengine's load_from is non-strict and
    # would only log a mismatching checkpoint, then score a partly random
    # network
    cfg.load_from = None
    # training-only parts need not exist at test time
    cfg.train_dataloader = None
    cfg.train_cfg = None
    cfg.optim_wrapper = None
    cfg.param_scheduler = None
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    fill_from_checkpoint(cfg, args.checkpoint)
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)
    # as MMAction2's tools: the config's runner_type, else MMEngine's Runner
    runner = (RUNNERS.build(cfg) if 'runner_type' in cfg else
              Runner.from_cfg(cfg))
    runner.load_checkpoint(args.checkpoint, map_location='cpu', strict=True)
    metrics = runner.test()
    if args.metrics_out:
        import json
        with open(args.metrics_out, 'w') as f:
            json.dump({k: float(v) for k, v in metrics.items()}, f, indent=1)
        print(f'metrics written to {osp.abspath(args.metrics_out)}')
    close_distributed()
    return metrics


if __name__ == '__main__':
    from hrpro_plugin.apis.cli import run_cli
    run_cli(main)
