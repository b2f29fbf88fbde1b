# THUMOS14 in the layout of docs/method.md ("Data"). Override the root with
# tools/train.py --data-root DIR.
data_root = 'data/thumos14'
feat_dim = None          # read from the feature files (I3D: 2048); set to fix it
num_classes = 20
snippet_frames = 16
feature_fps = 25.0
blocked_videos = ['video_test_0000270', 'video_test_0001292',
                  'video_test_0001496']
tiou_thresholds = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]

train_pipeline = [dict(type='LoadSnippetFeatures'),
                  dict(type='PackPointTALInputs')]
test_pipeline = train_pipeline

train_dataset = dict(
    type='PointTALDataset', data_root=data_root, ann_file='gt_full.json',
    split_file='split_train.txt',
    point_file='point_labels/point_gaussian.csv',
    feature_dir='features/train', feat_dim=None,  # filled from feat_dim
    snippet_frames=snippet_frames, feature_fps=feature_fps,
    require_points=True, pipeline=train_pipeline)
test_dataset = dict(
    type='PointTALDataset', data_root=data_root, ann_file='gt_full.json',
    split_file='split_test.txt',
    point_file='point_labels/point_gaussian.csv',
    feature_dir='features/test', feat_dim=None,  # filled from feat_dim
    snippet_frames=snippet_frames, feature_fps=feature_fps,
    blocked_videos=blocked_videos, require_points=False,
    test_mode=True, pipeline=test_pipeline)

train_dataloader = dict(
    batch_size=16, num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    # videos of similar length share a batch: less padding, same semantics
    batch_sampler=dict(type='LengthBucketBatchSampler', num_buckets=4),
    dataset=train_dataset)
test_dataloader = dict(
    batch_size=8, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=test_dataset)
test_evaluator = dict(
    type='TALmAPMetric', tiou_thresholds=tiou_thresholds,
    ambiguous_file=data_root + '/Ambiguous_test.txt',
    blocked_videos=blocked_videos)
test_cfg = dict(type='TestLoop')

# Stage 2 trains on the training videos with the proposals mined at the
# switch (LoadMinedProposals' file is filled in by TwoStageTrainLoop).
stage2_dataloader = dict(
    batch_size=10, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(train_dataset,
                 pipeline=train_pipeline + [dict(type='LoadMinedProposals')]))
