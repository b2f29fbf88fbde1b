"""Ablation (paper Table 3): the full method without negative proposals (NP).

No proposal is sampled inside the background seeds (``np_ratio=0``); the
negatives of the score loss are the low-tIoU PP only.
"""
_base_ = ['../hrpro_thumos14.py']
custom_hooks = [dict(type='PrototypeInitHook'),
                dict(type='ProposalMiningHook', np_ratio=0.0)]
