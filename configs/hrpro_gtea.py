"""HR-Pro, both stages, on GTEA (7 classes; mAP at tIoU 0.1:0.7).

    python tools/train.py configs/hrpro_gtea.py --data-root data/gtea
    python tools/test.py configs/hrpro_gtea.py work_dirs/hrpro_gtea/stage2.pth --data-root data/gtea

The hyper-parameters are THUMOS14's (model, thresholds, schedule): they are
NOT validated on real GTEA features here (only the annotation files are
available to this project; every check runs on random or synthetic
features). Assumptions (see _base_/datasets/gtea.py): 2048-d I3D features of
16-frame snippets at 25 fps. The schedule is THUMOS14's: with 21 training
videos, stage 1's 1,000 iterations of 16 videos are about 760 passes over
the data and stage 2's 20 epochs of 10 videos only 60 iterations; tune
``train_cfg.stage1_iters`` / ``train_cfg.stage2_epochs`` on a held-out part
of the training set, never on the test split.
"""
_base_ = [
    '_base_/default_runtime.py', '_base_/models/hrpro.py',
    '_base_/datasets/gtea.py', '_base_/schedules/hrpro_thumos14.py'
]
train_cfg = dict(stage2_dataloader={{_base_.stage2_dataloader}})
custom_hooks = [dict(type='PrototypeInitHook'),
                dict(type='ProposalMiningHook')]
