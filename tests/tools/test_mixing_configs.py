"""configs/examples/ (docs/mixing.md): both worked configs train for a few
iterations on the tiny synthetic set and test to a finite mAP with the
tools, as written; the parts they register keep the contracts they state."""
import importlib
import json
import math
import os.path as osp

import pytest
import torch

from _helpers import REPO_ROOT, TINY_MODEL_OPTIONS, TINY_TRAIN_OPTIONS, \
    run_tool

CONV_NECK = 'configs/examples/hrpro_conv_neck_synthetic.py'
POINT_MLP = 'configs/examples/point_mlp_synthetic.py'


@pytest.fixture
def parts(monkeypatch):
    """configs.examples.mixing_modules, imported under the name the
    configs' custom_imports use (so it registers its parts once)."""
    monkeypatch.syspath_prepend(REPO_ROOT)
    return importlib.import_module('configs.examples.mixing_modules')


def _metrics(path):
    with open(path) as f:
        metrics = json.load(f)
    assert set(metrics) >= {'mAP@0.10', 'mAP@0.70', 'mAP_avg'}
    assert all(math.isfinite(v) and 0 <= v <= 100 for v in metrics.values())
    return metrics


def test_conv_neck_contract(parts):
    from mmaction.registry import MODELS
    torch.manual_seed(0)
    neck = MODELS.build(dict(type='TemporalConvNeck', in_channels=8,
                             num_classes=3, num_layers=2)).eval()
    x = torch.randn(2, 7, 8)
    mask = torch.tensor([[True] * 7, [True] * 4 + [False] * 3])
    protos = torch.randn(3, 8)
    out = neck(x, mask, protos)
    assert out.shape == (2, 7, 8)
    assert (out[1, 4:] == 0).all()
    # the short video alone gives what it gives padded in the batch
    alone = neck(x[1:, :4], mask[1:, :4], protos)
    assert torch.allclose(alone[0], out[1, :4], atol=1e-6)
    # ... and the padding's content does not leak in
    x2 = x.clone()
    x2[1, 4:] = 1e3
    assert torch.allclose(neck(x2, mask, protos), out, atol=1e-6)
    with pytest.raises(ValueError, match='odd'):
        MODELS.build(dict(type='TemporalConvNeck', in_channels=8,
                          num_classes=3, kernel_size=2))


def test_point_mlp_contract(parts, tiny_dataset):
    """One batch through the dataset and the model: the loss keys, and
    predictions in seconds inside each video."""
    from mmaction.registry import DATASETS, MODELS
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    cfg = Config.fromfile(osp.join(REPO_ROOT, POINT_MLP))
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.update(data_root=tiny_dataset, feat_dim=16)
    dataset = DATASETS.build(ds_cfg)
    model = MODELS.build(dict(cfg.model, feat_dim=16, num_classes=3))
    batch = model.data_preprocessor(
        pseudo_collate([dataset[i] for i in range(3)]), True)
    losses = model(**batch, mode='loss')
    assert set(losses) == {'loss_point', 'loss_background', 'loss_video'}
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    model.eval()
    with torch.no_grad():
        out = model(**batch, mode='predict')
    for sample in out:
        pred = sample.pred_instances
        assert len(pred.scores) > 0
        assert pred.segments.shape == (len(pred.scores), 2)
        assert (pred.segments[:, 0] >= 0).all()
        assert (pred.segments[:, 0] < pred.segments[:, 1]).all()
        assert (pred.segments[:, 1] <=
                sample.metainfo['duration'] + 1e-4).all()


@pytest.mark.slow
def test_hrpro_heads_on_a_conv_neck(tiny_dataset, tmp_path):
    wd = str(tmp_path / 'a')
    run_tool('tools/train.py', CONV_NECK, '--data-root', tiny_dataset,
             '--work-dir', wd, '--cfg-options', *TINY_TRAIN_OPTIONS)
    ckpt = torch.load(osp.join(wd, 'stage2.pth'), map_location='cpu',
                      weights_only=False)
    keys = ckpt['state_dict'].keys()
    assert any(k.startswith('neck.convs.') for k in keys)
    assert not any(k.startswith('neck.blocks.') for k in keys)  # no RAB
    assert any(k.startswith('instance_head.') for k in keys)
    metrics = tmp_path / 'a.json'
    run_tool('tools/test.py', CONV_NECK, osp.join(wd, 'stage2.pth'),
             '--data-root', tiny_dataset, '--work-dir', str(tmp_path / 'at'),
             '--metrics-out', metrics, '--cfg-options', *TINY_MODEL_OPTIONS)
    _metrics(metrics)


@pytest.mark.slow
def test_own_model_on_hrpro_data_nms_and_metric(tiny_dataset, tmp_path):
    wd = tmp_path / 'b'
    proc = run_tool('tools/train.py', POINT_MLP, '--data-root', tiny_dataset,
                    '--work-dir', wd, '--cfg-options',
                    'train_cfg.max_iters=20', 'train_cfg.val_interval=10',
                    'train_dataloader.batch_size=4',
                    'default_hooks.checkpoint.interval=10',
                    'default_hooks.logger.interval=5')
    log = proc.stdout + proc.stderr
    for key in ('loss_point', 'loss_background', 'loss_video'):
        assert key in log
    # validation ran on the held-out training videos and kept the best
    assert 'mAP_avg' in log
    best = sorted(wd.glob('best_mAP_avg_iter_*.pth'))
    assert len(best) == 1
    metrics = tmp_path / 'b.json'
    run_tool('tools/test.py', POINT_MLP, best[0], '--data-root',
             tiny_dataset, '--work-dir', str(tmp_path / 'bt'),
             '--metrics-out', metrics)
    _metrics(metrics)
