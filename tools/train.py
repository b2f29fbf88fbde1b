"""Train HR-Pro (both stages) with MMEngine's runner.

Same flags as MMAction2's tools/train.py, plus ``--data-root DIR``, which
points every path of the config under its dataset root at DIR.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import hrpro_plugin  # noqa: E402,F401  (applies compat, registers parts)
from mmengine.config import Config  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from mmaction.registry import RUNNERS  # noqa: E402

from hrpro_plugin.apis import (add_runner_args, apply_runner_args,  # noqa: E402
                               close_distributed, fill_model_dims)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train HR-Pro')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from a checkpoint path, or from the latest checkpoint '
        'of the work dir when no path is given')
    parser.add_argument('--amp', action='store_true',
                        help='bf16 autocast on GPU (same as model.bf16=True)')
    parser.add_argument('--no-validate', action='store_true',
                        help='do not validate during training (drops the '
                        "config's val_dataloader, val_cfg and val_evaluator)")
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate with the batch size')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument('--diff-rank-seed', action='store_true',
                        help='different seeds on different ranks')
    parser.add_argument('--deterministic', action='store_true',
                        help='deterministic algorithms (see README)')
    add_runner_args(parser)
    return parser.parse_args(argv)


def merge_args(cfg, args):
    apply_runner_args(cfg, args)
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.amp:
        cfg.model['bf16'] = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    randomness = dict(cfg.get('randomness') or {})
    if args.seed is not None:
        randomness['seed'] = args.seed
    if args.diff_rank_seed:
        randomness['diff_rank_seed'] = True
    if args.deterministic:
        randomness['deterministic'] = True
    cfg.randomness = randomness
    fill_model_dims(cfg)
    return cfg


RUN_FILES = ('stage1.pth', 'stage2.pth', 'mined_proposals.pt',
             'last_checkpoint')


def set_aside_previous_run(work_dir: str, keep=None):
    """A fresh (non-resume) run into a work dir that holds checkpoints or a
    mining file of an earlier run moves them into
    ``<work_dir>/previous_run_<time>/`` and says so, so that nothing is
    overwritten and no stale file is reused. ``keep``: a path not to move
    (the ``load_from`` checkpoint). Returns the folder, or None."""
    if not work_dir or not osp.isdir(work_dir):
        return None
    keep = osp.abspath(keep) if keep else None
    names = sorted(n for n in os.listdir(work_dir)
                   if (n in RUN_FILES or (n.endswith('.pth') and
                                          n.startswith(('iter_', 'epoch_',
                                                        'best_'))))
                   and osp.abspath(osp.join(work_dir, n)) != keep)
    if not names:
        return None
    import time
    dest = osp.join(work_dir, 'previous_run_' +
                    time.strftime('%Y%m%d_%H%M%S'))
    base, k = dest, 1
    while osp.exists(dest):
        dest = f'{base}_{k}'
        k += 1
    os.makedirs(dest)
    for n in names:
        os.replace(osp.join(work_dir, n), osp.join(dest, n))
    print(f'{work_dir} held an earlier run; moved {", ".join(names)} to '
          f'{dest} (pass --resume to continue that run instead)',
          flush=True)
    return dest


def main(argv=None):
    args = parse_args(argv)
    if args.deterministic:
        # cuBLAS needs this for deterministic matrix products on CUDA;
        # mmengine's deterministic switch does not set it.
        os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', ':4096:8')
    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)
    if not cfg.get('resume') and int(os.environ.get('RANK', '0')) == 0:
        # apply_runner_args has set cfg.work_dir
        set_aside_previous_run(cfg.work_dir, keep=cfg.get('load_from'))
    # as MMAction2's tools: the config's runner_type, else MMEngine's Runner
    runner = (RUNNERS.build(cfg) if 'runner_type' in cfg else
              Runner.from_cfg(cfg))
    runner.train()
    from mmengine.dist import is_main_process
    if is_main_process():
        print(f'work dir: {osp.abspath(cfg.work_dir)}')
    close_distributed()


if __name__ == '__main__':
    from hrpro_plugin.apis.cli import run_cli
    run_cli(main)
