"""Bad input: every case ends in a clear error (file / video / class named)
or in documented correct behaviour, never deep in torch, never silently.

Already covered elsewhere (not repeated here):
- empty split file: tests/datasets/test_annotations.py::test_split_errors and
  tests/datasets/test_point_tal_dataset.py::test_split_errors;
- int64 / truncated / junk .npy, wrong width, NaN/inf, missing files:
  tests/datasets/test_annotations.py::test_check_feature_file,
  tests/datasets/test_point_tal_dataset.py::
  test_truncated_and_non_float_features (and the tests next to it);
- a video without predictions, or no predictions at all, in the metric:
  tests/evaluation/test_tal_map_metric.py::test_known_answer_and_keys (video
  v3) and ::test_empty_predictions_everywhere;
- missing ambiguous file at metric level:
  tests/evaluation/test_tal_map_metric.py::
  test_missing_ambiguous_file_fails_at_construction.
Here: short videos through the model (1-3 snippets, both stages, training
and inference), an empty feature array, an empty prediction list as the
model packs it, and the tool-level failures (ambiguous file, class list,
feature width).
"""
import csv
import json
import os.path as osp
import shutil
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData

import hrpro_plugin  # noqa: F401
from hrpro_plugin.datasets import DataError, PointTALDataset
from hrpro_plugin.engine.hooks import ProposalMiningHook
from hrpro_plugin.evaluation import TALmAPMetric
from hrpro_plugin.fileio.proposal_file import load_proposals
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from reliability._runs import run_test_py_in_process

D, C = 16, 3
SNIPPET = 16 / 25  # seconds


@pytest.fixture(scope='module', autouse=True)
def mmaction_scope():
    DefaultScope.get_instance('reliability_bad_input', scope_name='mmaction')


def build_model(seed=0):
    """configs/hrpro_synthetic.py's model, 16-d, 3 classes, small instance
    head."""
    cfg = Config.fromfile('configs/hrpro_synthetic.py').model
    cfg = dict(cfg, feat_dim=D, num_classes=C)
    cfg['instance_head'] = dict(cfg['instance_head'], hidden_score=(64, 32),
                                hidden_reg=32)
    torch.manual_seed(seed)
    return MODELS.build(cfg)


def sample(name, T, points=()):
    ds = ActionDataSample(metainfo=dict(
        video_name=name, num_snippets=T, snippet_seconds=SNIPPET,
        duration=T * SNIPPET, fps=25.0))
    snippets = torch.tensor([s for s, _ in points], dtype=torch.long)
    labels = torch.tensor([c for _, c in points], dtype=torch.long)
    ds.gt_points = InstanceData(snippets=snippets, labels=labels)
    video_label = torch.zeros(C)
    video_label[labels] = 1
    ds.set_field(video_label, 'gt_video_label')
    ds.gt_instances = InstanceData(
        segments=torch.tensor([[s * SNIPPET, (s + 1) * SNIPPET]
                               for s, _ in points]).reshape(-1, 2),
        labels=labels)
    return ds


def features(T, seed):
    return torch.randn(T, D, generator=torch.Generator().manual_seed(seed))


def batch(lengths):
    x = torch.zeros(len(lengths), max(lengths), D)
    for i, T in enumerate(lengths):
        x[i, :T] = features(T, seed=T)
    return x


def check_predictions(out, lengths):
    """Finite, non-empty segments inside [0, T * snippet_seconds]."""
    summary = []
    for ds, T in zip(out, lengths):
        p = ds.pred_instances
        seg, scores = p.segments, p.scores
        assert torch.isfinite(seg).all() and torch.isfinite(scores).all()
        assert len(seg) == len(scores) == len(p.labels)
        assert (seg[:, 0] >= 0).all(), seg
        assert (seg[:, 1] <= T * SNIPPET + 1e-5).all(), (T, seg)
        assert (seg[:, 1] > seg[:, 0]).all(), seg
        assert ((p.labels >= 0) & (p.labels < C)).all()
        summary.append((seg, p.labels, scores))
    return summary


def _as_sets(detections):
    """(segments, labels, scores) -> (boxes with labels sorted by row,
    scores sorted)."""
    seg, lab, sco = detections
    rows = torch.cat([lab[:, None].to(seg.dtype), seg], 1)
    for col in (2, 1, 0):                       # lexicographic, stable
        rows = rows[torch.sort(rows[:, col], stable=True).indices]
    return rows, torch.sort(sco).values


@pytest.mark.parametrize('stage', [1, 2])
def test_predict_on_videos_of_1_to_3_snippets(stage):
    """Shorter than the RoI-align bins (12), the upsampling (x2) and the
    top-k (T // 8 = 0 -> k = 1): predictions are still valid, and the same
    alone or padded next to a 40-snippet video."""
    model = build_model().eval()
    if stage == 2:
        model.switch_to_stage2()
        calls = []
        predict = model.instance_head.predict
        model.instance_head.predict = lambda *a, **k: calls.append(1) or \
            predict(*a, **k)
    alone = {}
    with torch.no_grad():
        for T in (1, 2, 3):
            out = model.predict(batch([T]), [sample(f'v{T}', T)])
            (alone[T], ) = check_predictions(out, [T])
            assert len(alone[T][0]) > 0, 'no candidate at all'
        lengths = [1, 2, 3, 40]
        out = model.predict(batch(lengths),
                            [sample(f'v{T}', T) for T in lengths])
    together = check_predictions(out, lengths)
    for T, got in zip(lengths[:3], together[:3]):
        # The same detections, compared as sets: a matrix product's rows
        # may round differently with the number of rows (BLAS takes other
        # paths for a few rows), and two near-equal scores can then swap
        # places in soft-NMS, which swaps which of the two is decayed.
        for a, b in zip(_as_sets(got), _as_sets(alone[T])):
            torch.testing.assert_close(a, b)
    if stage == 2:
        assert calls, 'the instance head was not used'


def test_training_loss_with_videos_of_1_to_3_snippets():
    model = build_model().train()
    lengths = [1, 2, 3, 40]
    samples = [sample('v1', 1, [(0, 0)]), sample('v2', 2, [(1, 1)]),
               sample('v3', 3, [(0, 2), (2, 0)]),
               sample('v40', 40, [(5, 0), (20, 1), (33, 2)])]
    losses = model.loss(batch(lengths), samples)
    total = sum(losses.values())
    assert all(torch.isfinite(v) for v in losses.values()), losses
    total.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    # only short videos in the batch
    model.zero_grad()
    losses = model.loss(batch(lengths[:3]), samples[:3])
    assert all(torch.isfinite(v) for v in losses.values()), losses


# ------------------------------------------------------------------ dataset
def write_dataset(root, videos, classes=('a', 'b', 'c')):
    """videos: name -> (T, [(snippet, class index)]); 25 fps, duration
    T * 0.64 s; every video in split_train.txt."""
    root.mkdir(parents=True, exist_ok=True)
    (root / 'features' / 'train').mkdir(parents=True)
    (root / 'point_labels').mkdir()
    db = {}
    with open(root / 'point_labels' / 'point_gaussian.csv', 'w',
              newline='') as f:
        w = csv.writer(f)
        w.writerow(['class', 'class_index', 'start_frame', 'stop_frame',
                    'video_id', 'point'])
        for name, (T, points) in videos.items():
            db[name] = dict(subset='train', duration=T * SNIPPET, fps=25.0,
                            annotations=[dict(label=classes[c],
                                              segment=[s * SNIPPET,
                                                       (s + 1) * SNIPPET])
                                         for s, c in points])
            for s, c in points:
                frame = s * 16 + 8
                w.writerow([classes[c], c, frame - 4, frame + 4, name, frame])
            np.save(root / 'features' / 'train' / f'{name}.npy',
                    features(T, seed=T).numpy())
    (root / 'gt_full.json').write_text(json.dumps(dict(database=db)))
    (root / 'split_train.txt').write_text('\n'.join(videos) + '\n')
    return str(root)


def dataset(root, pipeline_extra=()):
    return PointTALDataset(
        data_root=root, ann_file='gt_full.json', split_file='split_train.txt',
        point_file='point_labels/point_gaussian.csv',
        feature_dir='features/train', feat_dim=D, serialize_data=False,
        pipeline=[dict(type='LoadSnippetFeatures'),
                  dict(type='PackPointTALInputs'), *pipeline_extra])


SHORT_VIDEOS = {'s1': (1, [(0, 0)]), 's2': (2, [(1, 1)]),
                's3': (3, [(0, 2), (2, 1)]),
                'long': (40, [(4, 0), (17, 1), (30, 2)])}


def test_stage2_mining_and_loss_with_videos_of_1_to_3_snippets(tmp_path):
    """The switch mines PP/RP/NP on short videos (background runs of one
    snippet, proposals shorter than the RoI bins) and the stage-2 loss of a
    batch of them is finite."""
    root = write_dataset(tmp_path / 'data', SHORT_VIDEOS)
    model = build_model()
    ds = dataset(root)
    path = str(tmp_path / 'mined.pt')
    runner = SimpleNamespace(
        model=model, seed=0, experiment_name='bad_input',
        train_dataloader=SimpleNamespace(dataset=ds),
        train_loop=SimpleNamespace(stage1_iters=0))
    ProposalMiningHook(batch_size=4).before_stage2(runner, proposal_file=path)
    assert load_proposals(path)['pp']['start'].numel() > 0
    ds2 = dataset(root, [dict(type='LoadMinedProposals',
                              proposal_file=path)])
    model.switch_to_stage2()
    model.train()
    data = model.data_preprocessor(
        pseudo_collate([ds2[i] for i in range(len(ds2))]), True)
    losses = model(**data, mode='loss')
    assert losses and all(torch.isfinite(v) for v in losses.values()), losses
    sum(losses.values()).backward()
    data = model.data_preprocessor(
        pseudo_collate([ds2[i] for i in range(3)]), True)  # short ones only
    losses = model(**data, mode='loss')
    assert all(torch.isfinite(v) for v in losses.values()), losses


def test_feature_file_with_zero_snippets(tmp_path):
    root = write_dataset(tmp_path / 'data', SHORT_VIDEOS)
    np.save(osp.join(root, 'features', 'train', 's2.npy'),
            np.zeros((0, D), np.float32))
    with pytest.raises(DataError, match=r's2\.npy: feature array \(video s2\)'
                       r' is empty, shape \(0, 16\)'):
        dataset(root)


def test_metric_scores_a_video_the_model_left_without_predictions(tmp_path):
    """The model's own packing of "no prediction for this video" (an empty
    InstanceData) goes through the metric and the results file."""
    samples = [sample('v1', 10, [(2, 0)]), sample('v2', 10, [(5, 1)])]
    out = build_model().pack_predictions(
        samples, segments=torch.tensor([[2.0, 3.0]]),
        labels=torch.tensor([0]), scores=torch.tensor([0.9]),
        batch_idx=torch.tensor([0]), video_scores=torch.zeros(2, C))
    assert len(out[1].pred_instances) == 0
    metric = TALmAPMetric(out_file=str(tmp_path / 'results.json'))
    metric.dataset_meta = dict(classes=['a', 'b', 'c'])
    metric.process({}, [s.to_dict() for s in out])
    result = metric.compute_metrics(metric.results)
    # class a: one perfect hit; class b: its instance missed -> mAP 50
    assert result['mAP@0.50'] == pytest.approx(50.0)
    written = json.loads((tmp_path / 'results.json').read_text())
    assert written['results']['v2'] == []
    assert len(written['results']['v1']) == 1


# -------------------------------------------------------------------- tools
@pytest.mark.slow
def test_test_tool_missing_ambiguous_file(tiny_run, tmp_path):
    missing = str(tmp_path / 'nowhere' / 'Ambiguous_test.txt')
    with pytest.raises(FileNotFoundError, match='ambiguous-segment file not '
                       f'found: {missing}'):
        run_test_py_in_process(
            tiny_run['config'], osp.join(tiny_run['work_dir'], 'stage2.pth'),
            '--data-root', tiny_run['data_root'], '--work-dir',
            str(tmp_path / 'work'), '--cfg-options',
            f'test_evaluator.ambiguous_file={missing}')


@pytest.mark.slow
def test_test_tool_data_with_other_classes_than_the_checkpoint(
        tiny_run, tmp_path):
    """The checkpoint's class list is used; data that names another class
    fails with the class, the video and the file."""
    root = tmp_path / 'other'
    shutil.copytree(tiny_run['data_root'], root)
    for rel in ('gt_full.json', 'point_labels/point_gaussian.csv'):
        path = root / rel
        path.write_text(path.read_text().replace('class_02', 'Diving'))
    with pytest.raises(DataError, match=r"gt_full\.json: class 'Diving' "
                       r'\(video \w+\) is not in the class list'):
        run_test_py_in_process(
            tiny_run['config'], osp.join(tiny_run['work_dir'], 'stage2.pth'),
            '--data-root', str(root), '--work-dir', str(tmp_path / 'work'))


@pytest.mark.slow
def test_test_tool_data_wider_than_the_checkpoint(tiny_run, tmp_path):
    from _helpers import make_tiny_dataset
    root = make_tiny_dataset(tmp_path / 'wide', feat_dim=32)
    with pytest.raises(DataError, match=r'wrong feature dimension for video '
                       r'\w+: got 32, expected feat_dim=16'):
        run_test_py_in_process(
            tiny_run['config'], osp.join(tiny_run['work_dir'], 'stage2.pth'),
            '--data-root', root, '--work-dir', str(tmp_path / 'work'))
