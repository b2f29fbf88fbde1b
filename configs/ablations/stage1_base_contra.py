"""Ablation (paper Table 3, row +L_contra): stage 1 with the point focal loss
and the reliable contrastive loss, without the RAB stack."""
_base_ = ['../hrpro_stage1_thumos14.py']
model = dict(neck=None)
