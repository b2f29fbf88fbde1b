default_scope = 'mmaction'
# MMEngine's Runner with the hook table and paramwise lines at DEBUG
runner_type = 'HRProRunner'
custom_imports = dict(imports=['hrpro_plugin'], allow_failed_imports=False)

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    # metrics logged at the global iteration (the step of scalars.json)
    logger=dict(type='LoggerHook', interval=20, ignore_last=False,
                log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # stage1.pth / stage2.pth are written by the train loop at the end of
    # each stage; these are for resuming long runs.
    checkpoint=dict(type='CheckpointHook', interval=500, by_epoch=False,
                    max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # random-number states in every checkpoint, restored on --resume, so a
    # resumed run ends exactly as an uninterrupted one (README, "What
    # happens when")
    rng_state=dict(type='RNGStateHook'),
)
custom_hooks = [dict(type='PrototypeInitHook')]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))  # gloo is used automatically without CUDA

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=False)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
# Both stages leave parts of the model without gradient (stage 1: the
# instance head; stage 2: the frozen stage-1 network).
find_unused_parameters = True
auto_scale_lr = dict(enable=False, base_batch_size=16)
