# docs/method.md: stage 1 Adam lr 1e-4, wd 5e-4, 1,000 iterations of 16 videos;
# stage 2 Adam lr 5e-5, wd 5e-4, 20 epochs of 10 videos.
# One Adam holds both stages' parameters (the instance head at
# lr_mult = 5e-5 / 1e-4). In stage 1 the instance head gets no gradient; in
# stage 2 the stage-1 network is frozen (requires_grad=False), so Adam
# neither updates nor decays it: each stage trains only its own parameters.
stage1_iters = 1000
stage2_epochs = 20
stage1_lr = 1e-4
stage2_lr = 5e-5
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=stage1_lr, weight_decay=5e-4),
    paramwise_cfg=dict(
        custom_keys={'instance_head': dict(lr_mult=stage2_lr / stage1_lr)}))
train_cfg = dict(type='TwoStageTrainLoop', stage1_iters=stage1_iters,
                 stage2_epochs=stage2_epochs, stage2_dataloader=dict())
