"""HR-Pro's heads on another neck (docs/mixing.md, example a).

The whole HR-Pro model and two-stage schedule of configs/hrpro_synthetic.py
with the RAB neck replaced by TemporalConvNeck (residual temporal
convolutions, no attention, no prototype tokens), a part registered by
configs/examples/mixing_modules.py. The snippet head, prototype memory,
losses, candidate generator, instance head and soft-NMS are HR-Pro's.

    python tools/train.py configs/examples/hrpro_conv_neck_synthetic.py \
        --data-root data/synthetic
    python tools/test.py configs/examples/hrpro_conv_neck_synthetic.py \
        work_dirs/hrpro_conv_neck_synthetic/stage2.pth --data-root data/synthetic
"""
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/hrpro.py',
    '../_base_/datasets/synthetic.py', '../_base_/schedules/hrpro_thumos14.py'
]
# the repository root is on sys.path when the tools run
custom_imports = dict(
    imports=['hrpro_plugin', 'configs.examples.mixing_modules'],
    allow_failed_imports=False)

# _delete_: drop the RAB neck's keys (num_heads, ...), keep only these
model = dict(
    neck=dict(_delete_=True, type='TemporalConvNeck', num_layers=2,
              kernel_size=3, dropout=0.3))

train_cfg = dict(stage2_dataloader={{_base_.stage2_dataloader}})
custom_hooks = [dict(type='PrototypeInitHook'),
                dict(type='ProposalMiningHook')]
