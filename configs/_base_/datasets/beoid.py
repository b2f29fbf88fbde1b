# BEOID (34 object-interaction classes, 46 train / 12 test videos) in the layout of
# docs/method.md ("Data"): gt_full.json (subsets training / validation,
# fps 30, num_frames), split_train.txt / split_test.txt,
# point_labels/point_gaussian.csv without class_index (classes are the
# sorted annotation labels), features/{train,test}/<video>.npy.
# Assumption: I3D snippet features of 16 frames at 25 fps (0.64 s), as for
# THUMOS14; features extracted at another rate need snippet_frames /
# feature_fps changed here. No ambiguous segments, no blocked videos.
_base_ = ['./thumos14.py']
data_root = 'data/beoid'
feat_dim = None          # read from the feature files (I3D: 2048); set to fix it
num_classes = 34
snippet_frames = 16
feature_fps = 25.0
blocked_videos = []
tiou_thresholds = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]

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
