# ActivityNet 1.3 (200 classes) in the layout of docs/method.md ("Data"):
# gt_full.json (subsets training / validation; each video needs "fps", or
# "num_frames" and "duration"), split_train.txt (training videos) and
# split_test.txt (validation videos), point_labels/point_gaussian.csv without
# class_index (classes are the sorted annotation labels), features/
# {train,test}/<video>.npy. Video names keep their 'v_' prefix everywhere
# (split files, point CSV, features, results JSON).
# 8 training videos have no point and are left out of training with a
# warning. No ambiguous segments, no blocked videos. mAP at tIoU
# 0.5:0.05:0.95 (ActivityNet's protocol).
# Assumption: I3D snippet features of 16 frames at 25 fps (0.64 s), as for
# THUMOS14, one row a snippet (not resampled to a fixed length); features
# of another rate need snippet_frames / feature_fps changed here.
_base_ = ['./thumos14.py']
data_root = 'data/activitynet13'
feat_dim = None          # read from the feature files (I3D: 2048); set to fix it
num_classes = 200
snippet_frames = 16
feature_fps = 25.0
blocked_videos = []
tiou_thresholds = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]

train_dataloader = dict(
    dataset=dict(data_root=data_root, feat_dim=feat_dim,
                 snippet_frames=snippet_frames, feature_fps=feature_fps))
test_dataloader = dict(
    dataset=dict(data_root=data_root, feat_dim=feat_dim,
                 snippet_frames=snippet_frames, feature_fps=feature_fps,
                 blocked_videos=blocked_videos))
test_evaluator = dict(tiou_thresholds=tiou_thresholds, ambiguous_file=None,
                      blocked_videos=blocked_videos)
stage2_dataloader = dict(
    dataset=dict(data_root=data_root, feat_dim=feat_dim,
                 snippet_frames=snippet_frames, feature_fps=feature_fps))
