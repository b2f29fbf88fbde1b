"""HR-Pro, both stages, on the synthetic dataset (no download; `make demo`).

Same model, thresholds and schedule as hrpro_thumos14.py; the data comes
from tools/make_synthetic_dataset.py --out data/synthetic.
"""
_base_ = [
    '_base_/default_runtime.py', '_base_/models/hrpro.py',
    '_base_/datasets/synthetic.py', '_base_/schedules/hrpro_thumos14.py'
]
train_cfg = dict(stage2_dataloader={{_base_.stage2_dataloader}})
custom_hooks = [dict(type='PrototypeInitHook'),
                dict(type='ProposalMiningHook')]
