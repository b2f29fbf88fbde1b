"""HR-Pro, both stages, on ActivityNet 1.3 (200 classes; mAP at tIoU
0.5:0.05:0.95).

    python tools/train.py configs/hrpro_anet13.py --data-root data/activitynet13
    python tools/test.py configs/hrpro_anet13.py work_dirs/hrpro_anet13/stage2.pth --data-root data/activitynet13

The hyper-parameters are THUMOS14's (model, thresholds, schedule): they are
NOT validated on real ActivityNet features here (this project has the
point labels and split files only; neither gt_full.json nor features).
Assumptions (see _base_/datasets/anet13.py): 2048-d I3D features of
16-frame snippets at 25 fps, video names with their 'v_' prefix. The
schedule is THUMOS14's; with about 9,000 training videos, stage 1's 1,000
iterations of 16 videos see each video fewer than twice, while stage 2's 20
epochs of 10 videos are about 18,000 iterations: both likely need tuning
(``train_cfg.stage1_iters``, ``train_cfg.stage2_epochs``) on a held-out part
of the training set, never on the validation (test) split.
"""
_base_ = [
    '_base_/default_runtime.py', '_base_/models/hrpro.py',
    '_base_/datasets/anet13.py', '_base_/schedules/hrpro_thumos14.py'
]
train_cfg = dict(stage2_dataloader={{_base_.stage2_dataloader}})
custom_hooks = [dict(type='PrototypeInitHook'),
                dict(type='ProposalMiningHook')]
