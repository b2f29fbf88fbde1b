"""HR-Pro stage 1 on the synthetic dataset (no download; see README).

Same model and schedule as hrpro_stage1_thumos14.py; data from
tools/make_synthetic_dataset.py --out data/synthetic.
"""
_base_ = [
    '_base_/default_runtime.py', '_base_/models/hrpro.py',
    '_base_/datasets/synthetic.py', '_base_/schedules/stage1_thumos14.py'
]
model = dict(instance_head=None, instance_loss=None)
