# My own features and points (docs/custom_dataset.md).
_base_ = ['./thumos14.py']
data_root = 'data/my_dataset'
feat_dim = None          # None: read from the first feature file
num_classes = None       # None: read from the class list (points/annotations)
snippet_frames = 16      # frames a feature row covers ...
feature_fps = 25.0       # ... at this frame rate (0.64 s a snippet)
point_file = 'point_labels/point_uniform.csv'
blocked_videos = []
tiou_thresholds = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]

train_dataloader = dict(
    dataset=dict(data_root=data_root, feat_dim=feat_dim,
                 point_file=point_file, snippet_frames=snippet_frames,
                 feature_fps=feature_fps))
test_dataloader = dict(
    dataset=dict(data_root=data_root, feat_dim=feat_dim,
                 point_file=point_file, snippet_frames=snippet_frames,
                 feature_fps=feature_fps, blocked_videos=blocked_videos))
test_evaluator = dict(tiou_thresholds=tiou_thresholds, ambiguous_file=None,
                      blocked_videos=blocked_videos)
stage2_dataloader = dict(
    dataset=dict(data_root=data_root, feat_dim=feat_dim,
                 point_file=point_file, snippet_frames=snippet_frames,
                 feature_fps=feature_fps))
