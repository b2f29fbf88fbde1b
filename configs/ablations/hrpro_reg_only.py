"""Ablation (paper Table 3): instance level with L_reg only.

The score loss is off, so the completeness branch is untrained; at inference
each proposal is scored by its OIC alone (``use_score=False``), and the
refined proposals are emitted next to the originals. RP and NP as in the full
method.
"""
_base_ = ['../hrpro_thumos14.py']
model = dict(instance_loss=dict(score_weight=0.0),
             stage2_cfg=dict(use_score=False))
