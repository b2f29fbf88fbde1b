"""An MMAction2-style model of one's own on HR-Pro's data pipeline and
evaluation (docs/mixing.md, example b).

PointMLPLocalizer (configs/examples/mixing_modules.py): a per-snippet MLP
trained from the point labels with MMAction2's BCELossWithLogits, HR-Pro's
background seeds, candidate generator and soft-NMS; PointTALDataset,
PointTALDataPreprocessor and TALmAPMetric as HR-Pro uses them; MMEngine's
IterBasedTrainLoop and ValLoop on 20 % of the training videos held out,
the best checkpoint kept (best_mAP_avg_iter_<n>.pth).

    python tools/train.py configs/examples/point_mlp_synthetic.py \
        --data-root data/synthetic
    python tools/test.py configs/examples/point_mlp_synthetic.py \
        work_dirs/point_mlp_synthetic/iter_600.pth --data-root data/synthetic
"""
_base_ = ['../_base_/default_runtime.py', '../_base_/datasets/synthetic.py',
          '../_base_/datasets/synthetic_val.py']
custom_imports = dict(
    imports=['hrpro_plugin', 'configs.examples.mixing_modules'],
    allow_failed_imports=False)

model = dict(
    type='PointMLPLocalizer',
    feat_dim=None,        # filled from the features by tools/train.py
    num_classes=None,     # filled from the dataset's class list
    hidden_channels=256, dropout=0.5, topk_ratio=8,
    loss=dict(type='BCELossWithLogits'), video_loss_weight=1.0,
    pseudo_cfg=dict(bg_thresh=0.95, act_thresh=0.1),
    post_processor=dict(type='SoftNMSPostProcessor', sigma=0.3, top_k=200),
    data_preprocessor=dict(type='PointTALDataPreprocessor'))

# the same draw as the validation set of the base (ratio and seed must match)
holdout = dict(ratio=0.2, seed=0)
train_dataloader = dict(dataset=dict(holdout=dict(holdout, use='train')))

train_cfg = dict(type='IterBasedTrainLoop', max_iters=600, val_interval=200)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, weight_decay=1e-4))
# no prototype memory, no stage switch: none of HR-Pro's hooks
custom_hooks = []
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=200, by_epoch=False,
                    max_keep_ckpts=1, save_best='mAP_avg', rule='greater'))
