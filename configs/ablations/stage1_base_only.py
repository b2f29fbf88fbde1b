"""Ablation (paper Table 3, row L_base): stage 1 with the point focal loss
only: no RAB stack, no contrastive loss."""
_base_ = ['../hrpro_stage1_thumos14.py']
model = dict(neck=None, contrastive_loss=None)
