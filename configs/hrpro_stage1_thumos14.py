"""HR-Pro stage 1 (snippet-level reliability learning) on THUMOS14.

The full stage 1: RAB + L_base + L_contra, the method's schedule (docs/method.md).
"""
_base_ = [
    '_base_/default_runtime.py', '_base_/models/hrpro.py',
    '_base_/datasets/thumos14.py', '_base_/schedules/stage1_thumos14.py'
]
model = dict(instance_head=None, instance_loss=None)
