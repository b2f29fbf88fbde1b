# docs/method.md, stage 1: Adam lr 1e-4, weight decay 5e-4, 1,000 iterations of 16.
stage1_iters = 1000
stage1_lr = 1e-4
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=stage1_lr, weight_decay=5e-4))
train_cfg = dict(type='TwoStageTrainLoop', stage1_iters=stage1_iters,
                 stage2_epochs=0)
