"""HR-Pro, both stages, on THUMOS14 (the method's schedule (docs/method.md)s and thresholds).

    python tools/train.py configs/hrpro_thumos14.py --data-root data/thumos14
    python tools/test.py configs/hrpro_thumos14.py work_dirs/hrpro_thumos14/stage2.pth
"""
_base_ = [
    '_base_/default_runtime.py', '_base_/models/hrpro.py',
    '_base_/datasets/thumos14.py', '_base_/schedules/hrpro_thumos14.py'
]
train_cfg = dict(stage2_dataloader={{_base_.stage2_dataloader}})
custom_hooks = [dict(type='PrototypeInitHook'),
                dict(type='ProposalMiningHook')]
