"""HR-Pro on the synthetic dataset with validation, the best checkpoint kept,
and an epoch-based lr schedule for stage 2.

The validation videos are held out of the training split (a seeded 20 %
draw, the same in both stages and in proposal mining), never taken from
the test split. Validation runs every 250 stage-1 iterations and at the
end of stage 1, then every 5 stage-2 epochs and after the last one;
CheckpointHook keeps the checkpoint with the best mAP_avg on those
videos (best_mAP_avg_iter_<n>.pth). Stage 2's lr drops 10x after its
15th epoch (MultiStepLR, by_epoch=True: epochs count stage-2 epochs).

    python tools/train.py configs/hrpro_synthetic_val.py
"""
_base_ = ['./hrpro_synthetic.py']

holdout = dict(ratio=0.2, seed=0)
train_dataloader = dict(
    dataset=dict(holdout=dict(holdout, use='train')))
train_cfg = dict(
    val_interval=250, stage2_val_interval=5,
    stage2_dataloader=dict(dataset=dict(holdout=dict(holdout, use='train'))))

# the held-out training videos: features/train, ground truth from
# gt_full.json, points not needed
val_dataloader = dict(
    batch_size=8, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='PointTALDataset', data_root={{_base_.data_root}},
        ann_file='gt_full.json', split_file='split_train.txt',
        point_file='point_labels/point_gaussian.csv',
        feature_dir='features/train', feat_dim=None,
        snippet_frames={{_base_.snippet_frames}},
        feature_fps={{_base_.feature_fps}},
        holdout=dict(holdout, use='val'), require_points=False,
        test_mode=True, pipeline={{_base_.test_pipeline}}))
val_evaluator = dict(
    type='TALmAPMetric', tiou_thresholds={{_base_.tiou_thresholds}},
    ambiguous_file=None)
val_cfg = dict(type='ValLoop')

default_hooks = dict(
    checkpoint=dict(save_best='mAP_avg', rule='greater'))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[15], gamma=0.1)]
