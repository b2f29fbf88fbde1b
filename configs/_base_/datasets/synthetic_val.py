# Validation on a seeded 20 % of the synthetic training videos (never the
# test split). Add it as a second base next to a synthetic config and hold
# the same videos out of training:
#   train_dataloader = dict(dataset=dict(holdout=dict(holdout, use='train')))
# (and train_cfg.stage2_dataloader the same for the two-stage loop).
holdout = dict(ratio=0.2, seed=0)
val_dataloader = dict(
    batch_size=8, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='PointTALDataset', data_root='data/synthetic',
        ann_file='gt_full.json', split_file='split_train.txt',
        point_file='point_labels/point_gaussian.csv',
        feature_dir='features/train', feat_dim=None,
        snippet_frames=16, feature_fps=25.0,
        holdout=dict(holdout, use='val'), require_points=False,
        test_mode=True,
        pipeline=[dict(type='LoadSnippetFeatures'),
                  dict(type='PackPointTALInputs')]))
val_evaluator = dict(
    type='TALmAPMetric', tiou_thresholds=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
    ambiguous_file=None)
val_cfg = dict(type='ValLoop')
