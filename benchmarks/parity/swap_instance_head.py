"""Prepare a work dir that trains stage 2 again, with another instance head,
on the stage-1 checkpoint and mined proposals of an earlier run:

    python benchmarks/parity/swap_instance_head.py configs/hrpro_thumos14.py \
        work_dirs/run work_dirs/run_head --seed 1 \
        --cfg-options model.instance_head.hidden_score=None \
                      model.instance_head.hidden_reg=None
    python tools/train.py configs/hrpro_thumos14.py --data-root ... \
        --work-dir work_dirs/run_head --seed 1 --resume \
        --cfg-options model.instance_head.hidden_score=None \
                      model.instance_head.hidden_reg=None

It copies ``stage1.pth`` and ``mined_proposals.pt`` of ``SRC`` to ``DST``,
replaces every ``instance_head.*`` tensor of the checkpoint with those of a
model built from the config (with ``--cfg-options``) after seeding with
``--seed``, and points ``last_checkpoint`` at it. ``--resume`` then
continues at the stage switch (stage 1 is done, the mined file is reused),
so both stage 2s start from the same stage-1 network and proposals. The
instance head has no optimizer state in stage 1 (it gets no gradient), so
the optimizer state of the checkpoint fits the new head.
"""
import argparse
import os
import os.path as osp
import shutil
import sys

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

import hrpro_plugin  # noqa: E402,F401

STAGE1 = 'stage1.pth'
MINED = 'mined_proposals.pt'


def parse_args(argv=None):
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config')
    p.add_argument('src', help='work dir of the earlier run')
    p.add_argument('dst', help='new work dir (created)')
    p.add_argument('--seed', type=int, default=0,
                   help='seed before building the new head')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   default={})
    return p.parse_args(argv)


def swapped_state(cfg, state_dict: dict, num_classes: int, seed: int
                  ) -> dict:
    """``state_dict`` with its ``instance_head.*`` entries replaced by those
    of ``cfg.model`` built after ``set_random_seed(seed)``."""
    from mmaction.registry import MODELS
    from mmengine.registry import init_default_scope
    from mmengine.runner import set_random_seed

    cfg.model.feat_dim = int(state_dict['instance_head.start_reg.0.weight']
                             .shape[1])
    cfg.model.num_classes = int(num_classes)
    init_default_scope('mmaction')
    set_random_seed(seed)
    model = MODELS.build(cfg.model)
    out = {k: v for k, v in state_dict.items()
           if not k.startswith('instance_head.')}
    out.update({k: v for k, v in model.state_dict().items()
                if k.startswith('instance_head.')})
    return out


def main(argv=None):
    args = parse_args(argv)
    from mmengine.config import Config

    from hrpro_plugin.apis.checkpoint import checkpoint_classes, read_checkpoint

    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    for name in (STAGE1, MINED):
        if not osp.isfile(osp.join(args.src, name)):
            raise SystemExit(f'{osp.join(args.src, name)} does not exist: '
                             'SRC must be the work dir of a run that '
                             'finished stage 1')
    path = osp.join(args.src, STAGE1)
    ckpt = read_checkpoint(path)
    classes = checkpoint_classes(ckpt, path)
    ckpt['state_dict'] = swapped_state(cfg, ckpt['state_dict'], len(classes),
                                       args.seed)
    os.makedirs(args.dst, exist_ok=True)
    shutil.copy(osp.join(args.src, MINED), args.dst)
    out = osp.join(args.dst, STAGE1)
    torch.save(ckpt, out)
    with open(osp.join(args.dst, 'last_checkpoint'), 'w') as f:
        f.write(osp.abspath(out))
    print(f'{out}: stage-1 network of {path} with a new instance head; '
          f'resume with tools/train.py ... --work-dir {args.dst} --resume')


if __name__ == '__main__':
    main()
