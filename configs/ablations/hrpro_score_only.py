"""Ablation (paper Table 3): instance level with L_score only.

The regression loss is off, so the regression branch is untrained; at
inference only the original candidates are emitted, scored OIC + p_comp
(``use_regression=False``). RP and NP as in the full method.
"""
_base_ = ['../hrpro_thumos14.py']
model = dict(instance_loss=dict(reg_weight=0.0),
             stage2_cfg=dict(use_regression=False))
