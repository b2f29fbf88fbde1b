"""The benchmark run's config and schedule.

``configs/hrpro_thumos14.py`` resolved like ``tools/train.py`` (feat_dim /
num_classes from the data, seed 0), with the schedule shortened or
overridden on request.
"""
import os.path as osp
from typing import Optional

from mmengine.config import Config

from hrpro_plugin.apis import apply_data_root, fill_model_dims

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'hrpro_thumos14.py')


def build_config(data_root: str, work_dir: str,
                 stage1_iters: Optional[int], stage2_epochs: Optional[int],
                 amp: bool = False):
    """The run's config and the config's own (full) schedule."""
    cfg = Config.fromfile(CONFIG)
    full = dict(stage1_iters=int(cfg.train_cfg.stage1_iters),
                stage2_epochs=int(cfg.train_cfg.stage2_epochs))
    cfg.launcher = 'none'
    cfg.feat_dim = None
    cfg.num_classes = None
    apply_data_root(cfg, data_root)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=0, deterministic=False)
    if stage1_iters is not None:
        cfg.train_cfg.stage1_iters = int(stage1_iters)
    if stage2_epochs is not None:
        cfg.train_cfg.stage2_epochs = int(stage2_epochs)
    if amp:
        cfg.model['bf16'] = True
    ev = cfg.test_evaluator
    if ev.get('ambiguous_file') and not osp.isfile(ev['ambiguous_file']):
        # fully synthetic data has none; said aloud, since THUMOS14 numbers
        # without the filter are not comparable
        print(f'[speed] {ev["ambiguous_file"]} not found: testing without '
              'ambiguous-segment filtering', flush=True)
        ev['ambiguous_file'] = None
    fill_model_dims(cfg)
    return cfg, full


def describe_schedule(cfg, full: dict, quick_flag: bool,
                      overridden: bool) -> dict:
    """Iterations, epochs and batch sizes of the run and of the full
    schedule, and its name: ``full``, ``quick`` (``--quick`` alone) or
    ``custom``."""
    sched = dict(stage1_iters=int(cfg.train_cfg.stage1_iters),
                 stage2_epochs=int(cfg.train_cfg.stage2_epochs),
                 full_stage1_iters=full['stage1_iters'],
                 full_stage2_epochs=full['stage2_epochs'],
                 stage1_batch=int(cfg.train_dataloader.batch_size),
                 stage2_batch=int(cfg.train_cfg.stage2_dataloader.batch_size))
    if (sched['stage1_iters'], sched['stage2_epochs']) == \
            (full['stage1_iters'], full['stage2_epochs']):
        sched['name'] = 'full'
    elif quick_flag and not overridden:
        sched['name'] = 'quick'
    else:
        sched['name'] = 'custom'
    return sched
