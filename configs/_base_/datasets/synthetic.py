# The synthetic dataset of tools/make_synthetic_dataset.py (its defaults).
# No download; `make demo` writes it to data/synthetic.
_base_ = ['./thumos14.py']
data_root = 'data/synthetic'
feat_dim = None          # read from the generated features
num_classes = None       # read from the generated class list
blocked_videos = []
train_dataloader = dict(
    dataset=dict(data_root=data_root, feat_dim=None))
test_dataloader = dict(
    dataset=dict(data_root=data_root, feat_dim=None, blocked_videos=[]))
test_evaluator = dict(ambiguous_file=None, blocked_videos=[])
stage2_dataloader = dict(dataset=dict(data_root=data_root, feat_dim=None))
