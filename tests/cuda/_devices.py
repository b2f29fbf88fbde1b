"""Shared pieces of the device-equality tests: the device, the stated
tolerances, small seeded models and batches."""
import contextlib
import os

import torch
from mmengine.structures import InstanceData

import hrpro_plugin  # noqa: F401  (registers the parts)
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

ENV_VAR = 'HRPRO_TEST_DEVICE'

# ---------------------------------------------------------------- tolerances
# CPU vs device, float32, TF32 off. Reductions (matrix products, softmax,
# LayerNorm, atomics in backward passes) run in another order on a GPU, so
# float32 results differ by a few ulps per operation; these bounds leave
# ~100x room over that and are still far below any change of behaviour.
NET_RTOL = 1e-4        # stage-1 network outputs, relative to their max |x|
GRAD_RTOL = 1e-3       # gradients and weights after SGD steps (relative)
OIC_ATOL = 1e-6        # OIC scores (float64 prefix sums, float32 result)
ROI_ATOL = 1e-6        # RoI-align bins (float64 positions, float32 output)
HEAD_ATOL = 1e-5       # instance head outputs (an MLP on pooled bins)
NMS64_ATOL = 1e-12     # soft-NMS on float64 inputs
NMS32_ATOL = 1e-5      # soft-NMS on float32 inputs
PRED_ATOL = 1e-4       # end-to-end detections (seconds and scores)
# bf16 autocast vs float32 on the same device: bf16 keeps 8 significant
# bits (relative step 2^-8 = 0.4%). On this small model the largest
# deviations measured under CPU autocast are 0.003 on probabilities, 0.3%
# on embedded features, 0.2% on losses and a gradient cosine of 0.997;
# the bounds leave 5-10x room over those.
BF16_PROB_ATOL = 0.02  # probabilities (CAS, attention, background, video)
BF16_RTOL = 0.02       # embedded features, relative to their max |x|
BF16_LOSS_RTOL = 0.02  # stage-1 and stage-2 losses (relative)
BF16_GRAD_COS = 0.98   # cosine of the bf16 and float32 gradient vectors
BF16_MIN_DIFF = 1e-5   # at least this much deviation: bf16 really ran


def resolve_device() -> torch.device:
    """``HRPRO_TEST_DEVICE`` or the default (cuda when available, else
    cpu); RuntimeError when the device asked for is not there."""
    name = os.environ.get(ENV_VAR, '').strip()
    if not name:
        name = 'cuda' if torch.cuda.is_available() else 'cpu'
    try:
        dev = torch.device(name)
    except RuntimeError as err:
        raise RuntimeError(f'{ENV_VAR}={name!r}: {err}') from None
    if dev.type == 'cuda':
        if not torch.cuda.is_available():
            raise RuntimeError(f'{ENV_VAR}={name!r} but torch sees no CUDA '
                               'device (unset it to compare CPU with CPU)')
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise RuntimeError(f'{ENV_VAR}={name!r}: only '
                               f'{torch.cuda.device_count()} CUDA devices')
    elif dev.type != 'cpu':
        raise RuntimeError(f'{ENV_VAR}={name!r}: only cpu and cuda devices '
                           'are supported')
    return dev


def assert_close(actual, expected, rtol=0.0, atol=0.0, what=''):
    """``|actual - expected| <= atol + rtol * max|expected|`` everywhere
    (both moved to the CPU; same shape and dtype)."""
    a = actual.detach().cpu()
    e = expected.detach().cpu()
    assert a.shape == e.shape, f'{what}: shape {a.shape} != {e.shape}'
    assert a.dtype == e.dtype, f'{what}: dtype {a.dtype} != {e.dtype}'
    if a.numel() == 0:
        return
    if not torch.is_floating_point(e):
        assert torch.equal(a, e), f'{what}: integer values differ'
        return
    scale = float(e.double().abs().max())
    bound = atol + rtol * scale
    diff = float((a.double() - e.double()).abs().max())
    assert diff <= bound, (f'{what}: max |diff| {diff:.3g} > {bound:.3g} '
                           f'(max |x| {scale:.3g})')


def max_diff(a, b) -> float:
    return float((a.detach().cpu().double() - b.detach().cpu().double())
                 .abs().max())


# -------------------------------------------------------------- model, data
C, D = 4, 32
LENGTHS = (40, 27, 33)


def build_model(dropout=True, instance_head=True):
    """A small HRPro on the CPU (seed 0), prototypes set; ``dropout=False``
    sets every dropout rate to 0 (so that training steps compare)."""
    torch.manual_seed(0)
    drop = dict(attn_drop=0.1, drop=0.3) if dropout else dict(attn_drop=0.0,
                                                              drop=0.0)
    cfg = dict(
        type='HRPro', feat_dim=D, num_classes=C,
        neck=dict(type='RABNeck', num_heads=4, ffn_channels=64, **drop),
        head=dict(type='SnippetHead', dropout=0.7 if dropout else 0.0),
        proposal_cfg=dict(class_thresh=0.5),
        post_processor=dict(type='SoftNMSPostProcessor', sigma=0.3))
    if instance_head:
        cfg.update(
            instance_head=dict(type='InstanceHead', hidden_score=(32, 16),
                               hidden_reg=16,
                               dropout=0.7 if dropout else 0.0),
            instance_loss=dict(type='InstanceLoss'))
    model = MODELS.build(cfg)
    g = torch.Generator().manual_seed(1)
    model.memory.prototypes.copy_(torch.randn(C, D, generator=g))
    model.memory.initialized.fill_(True)
    return model


def make_samples(lengths=LENGTHS, seed=2, seconds=0.5):
    """Data samples with points, video labels, GT segments and, for stage 2,
    mined proposals."""
    g = torch.Generator().manual_seed(seed)
    samples = []
    for i, T in enumerate(lengths):
        ds = ActionDataSample()
        ds.set_metainfo(dict(video_name=f'v{i}', num_snippets=T,
                             snippet_seconds=seconds, duration=T * seconds,
                             fps=30.0))
        n = 3
        snippets = torch.randperm(T, generator=g)[:n].sort().values
        labels = torch.randint(0, C, (n,), generator=g)
        ds.gt_points = InstanceData(snippets=snippets, labels=labels)
        video_label = torch.zeros(C)
        video_label[labels] = 1
        ds.set_field(video_label, 'gt_video_label')
        starts = snippets.float() * seconds
        ds.gt_instances = InstanceData(
            segments=torch.stack([starts, starts + 3 * seconds], 1),
            labels=labels)
        samples.append(ds)
    return samples


def make_features(lengths=LENGTHS, seed=3):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(T, D, generator=g) for T in lengths]


def batch(model, feats, samples, training=False):
    """The model's preprocessor output (padded inputs on the model's
    device, data samples moved there)."""
    import copy
    return model.data_preprocessor(
        dict(inputs=[f.clone() for f in feats],
             data_samples=copy.deepcopy(samples)), training)


def on(model, device):
    """A copy of ``model`` on ``device``."""
    import copy
    return copy.deepcopy(model).to(device)


@contextlib.contextmanager
def bf16_autocast(model, device):
    """The model's bf16 path: on CUDA its own switch (``model.bf16``); on
    the CPU, where the model ignores that switch, its ``autocast`` is
    replaced by CPU bf16 autocast so that the same regions run in bf16."""
    if device.type == 'cuda':
        model.bf16 = True
        try:
            yield
        finally:
            model.bf16 = False
    else:
        model.autocast = lambda x: torch.autocast(device_type='cpu',
                                                  dtype=torch.bfloat16)
        try:
            yield
        finally:
            del model.autocast


def _smooth(x, k=5):
    """Moving average along dim 1, so that thresholds cut long runs."""
    pad = torch.nn.functional.pad(x.transpose(1, 2), (k // 2, k // 2),
                                  mode='replicate')
    return pad.unfold(2, k, 1).mean(-1).transpose(1, 2)


def stage1_like(B=3, T=60, C=4, seed=0):
    """Fused CAS, attention, video scores and mask of a padded batch."""
    g = torch.Generator().manual_seed(seed)
    cas = torch.sigmoid(3 * _smooth(torch.randn(B, T, C, generator=g)))
    cas = cas * 0.4
    attn = torch.sigmoid(3 * _smooth(torch.randn(B, T, 1, generator=g)))
    attn = attn[..., 0]
    video = torch.rand(B, C, generator=g)
    lengths = torch.tensor([T, T - 17, T - 31])[:B]
    mask = torch.arange(T)[None] < lengths[:, None]
    return cas * mask[..., None], attn * mask, video, mask
