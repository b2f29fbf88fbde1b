"""HR-Pro, both stages, on my own features (docs/custom_dataset.md)."""
_base_ = [
    '_base_/default_runtime.py', '_base_/models/hrpro.py',
    '_base_/datasets/my_dataset.py', '_base_/schedules/hrpro_thumos14.py'
]
train_cfg = dict(stage2_dataloader={{_base_.stage2_dataloader}})
custom_hooks = [dict(type='PrototypeInitHook'),
                dict(type='ProposalMiningHook')]
