"""Ablation (paper Table 3): the full method without the contrastive loss."""
_base_ = ['../hrpro_thumos14.py']
model = dict(contrastive_loss=None)
