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
_base_ = ['./hrpro_synthetic.py', './_base_/datasets/synthetic_val.py']

# the same draw as the validation set of the base (ratio and seed must match)
holdout = dict(ratio=0.2, seed=0)
train_dataloader = dict(
    dataset=dict(holdout=dict(holdout, use='train')))
train_cfg = dict(
    val_interval=250, stage2_val_interval=5,
    stage2_dataloader=dict(dataset=dict(holdout=dict(holdout, use='train'))))

default_hooks = dict(
    checkpoint=dict(save_best='mAP_avg', rule='greater'))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[15], gamma=0.1)]
