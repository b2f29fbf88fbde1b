"""Ablation (paper Table 3): the full method without reliable proposals (RP).

The paper leaves open what replaces RP as the reference of the completeness
targets. Here: every PP of the point's class with OIC > 0 that contains the
point is a reference (no "highest OIC between the neighbouring points"
selection), so a proposal's target is its best tIoU with any of them.
"""
_base_ = ['../hrpro_thumos14.py']
custom_hooks = [dict(type='PrototypeInitHook'),
                dict(type='ProposalMiningHook', rp_mode='all_containing')]
