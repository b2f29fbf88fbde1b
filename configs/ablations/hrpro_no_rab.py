"""Ablation (paper Table 3): the full method without the RAB stack."""
_base_ = ['../hrpro_thumos14.py']
model = dict(neck=None)
