"""Writing a synthetic dataset root (:func:`generate_dataset`): the ground
truth (:mod:`.ground_truth`), the training points, the features of every
video, and the :data:`SYNTHETIC_MARKER` file that marks the root as
synthetic."""
import csv
import io
import json
import math
import os
import os.path as osp
import time
from dataclasses import asdict
from typing import Callable, List, Optional, Tuple

import numpy as np

from .dataset_parsers import dataset_parsers
from .feature_model import make_feature_bank, synthesize_features
from .ground_truth import (Video, class_list, copy_ground_truth, draw_videos,
                           read_videos, write_drawn_ground_truth)
from .params import SNIPPET_SECONDS, FeatureModel, VideoLayout, num_snippets
from .videos import sample_points, video_rng

__all__ = ['SYNTHETIC_MARKER', 'GENERATOR', 'generate_dataset']

#: file that :func:`generate_dataset` writes in every root it makes (its
#: arguments): the features there are synthetic, whatever the annotations.
SYNTHETIC_MARKER = 'synthetic.json'

#: the ``"generator"`` of :data:`SYNTHETIC_MARKER`: the generator's name
#: since its first version (when it was the module
#: ``hrpro_plugin.datasets.synthetic``), kept so that the roots written
#: before are recognised and the same arguments still give the same bytes
GENERATOR = 'hrpro_plugin.datasets.synthetic'


def _dir_size(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += osp.getsize(osp.join(root, f))
    return total


def _point_rows(videos: List[Video], classes: List[str], seed: int,
                point_rel_std: float) -> Tuple[List[tuple], int]:
    """The CSV rows of the training points and the number of training
    instances without one.

    ``start_frame`` / ``stop_frame`` are the instance's frames rounded to
    integers, as in THUMOS14's CSV; the point is an integer frame inside
    the instance. Like THUMOS14's CSV: an instance that starts at or after
    the end of its video gets no point; one that runs past the end gets a
    point in the part inside the video.
    """
    rows = []
    no_point = 0
    for k, (name, split, dur, fps, segs, labels, frames) in enumerate(videos):
        if split != 'train' or len(labels) == 0:
            continue
        end_frame = dur * fps
        visible = frames[:, 0] < end_frame
        no_point += int((~visible).sum())
        pts = np.zeros(len(labels), np.int64)
        pts[visible] = sample_points(video_rng(seed, k, 3),
                                     frames[visible, 0],
                                     np.minimum(frames[visible, 1], end_frame),
                                     point_rel_std)
        order = np.lexsort((np.arange(len(labels)), frames[:, 0]))
        for j in order[visible[order]]:
            start, stop = (int(round(x)) for x in frames[j])
            rows.append((classes[int(labels[j])], int(labels[j]), start, stop,
                         name, int(pts[j])))
    rows.sort(key=lambda r: r[4])  # stable: keeps time order within a video
    return rows, no_point


def _write_points(out_dir: str, rows: List[tuple]) -> None:
    os.makedirs(osp.join(out_dir, 'point_labels'), exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator='\n')
    w.writerow(['class', 'class_index', 'start_frame', 'stop_frame',
                'video_id', 'point'])
    w.writerows(rows)
    with open(osp.join(out_dir, 'point_labels', 'point_gaussian.csv'),
              'w') as f:
        f.write(buf.getvalue())


def _write_features(out_dir: str, videos: List[Video], seed: int,
                    num_classes: int, feat_dim: int, model: FeatureModel,
                    say: Callable[[str], None]) -> int:
    """``features/{train,test}/<video>.npy`` of every video (a file of no
    video of the dataset is warned of and left in place); returns the
    total number of snippets."""
    bank = make_feature_bank(np.random.default_rng([int(seed), 0xBA4C]),
                             num_classes, feat_dim, model)
    for split in ('train', 'test'):
        fdir = osp.join(out_dir, 'features', split)
        os.makedirs(fdir, exist_ok=True)
        ours = {f'{v[0]}.npy' for v in videos if v[1] == split}
        stale = sorted(set(os.listdir(fdir)) - ours)
        if stale:
            say(f'[synthetic] warning: {fdir} holds {len(stale)} file(s) '
                f'of no video of this dataset (e.g. {stale[0]}); '
                'they are left in place')
    n = len(videos)
    step = max(1, int(math.ceil(n / 10)))
    total_T = 0
    for k, (name, split, dur, fps, segs, labels, frames) in enumerate(videos):
        T = num_snippets(dur)
        total_T += T
        feats = synthesize_features(video_rng(seed, k, 4), T,
                                    segs / SNIPPET_SECONDS, labels,
                                    bank['class_means'], bank['context_means'],
                                    bank['background_dirs'], model)
        np.save(osp.join(out_dir, 'features', split, f'{name}.npy'), feats)
        if (k + 1) % step == 0 or k + 1 == n:
            say(f'[synthetic] {k + 1}/{n} videos ({100 * (k + 1) // n}%)')
    return total_T


def _write_marker(out_dir: str, mode: str, seed: int, feat_dim: int,
                  annotations: Optional[str], layout: VideoLayout,
                  model: FeatureModel, point_rel_std: float) -> None:
    """Provenance: marks the root as synthetic for every tool."""
    with open(osp.join(out_dir, SYNTHETIC_MARKER), 'w') as f:
        json.dump(dict(generator=GENERATOR,
                       mode=mode, seed=int(seed), feat_dim=int(feat_dim),
                       annotations=annotations, layout=asdict(layout),
                       feature_model=asdict(model),
                       point_rel_std=point_rel_std), f, indent=1)
        f.write('\n')


def _action_coverage(videos: List[Video]) -> float:
    """Mean fraction of a video inside an instance (a 0.1 s grid)."""
    cov = []
    for name, split, dur, fps, segs, labels, frames in videos:
        grid = np.arange(0.05, dur, 0.1)
        inside = np.zeros(len(grid), bool)
        for s, e in segs:
            inside |= (grid >= s) & (grid < e)
        cov.append(inside.mean() if len(grid) else 0.0)
    return float(np.mean(cov)) if cov else 0.0


def _summary(out_dir: str, mode: str, seed: int, classes: List[str],
             feat_dim: int, videos: List[Video], rows: List[tuple],
             no_point: int, total_T: int) -> dict:
    n = len(videos)
    n_inst = [len(v[5]) for v in videos]
    lens = np.concatenate([v[4][:, 1] - v[4][:, 0]
                           for v in videos] + [np.zeros(0)])
    return dict(
        out_dir=osp.abspath(out_dir),
        mode=mode,
        seed=int(seed),
        num_classes=len(classes),
        classes=classes,
        feat_dim=int(feat_dim),
        num_train=sum(v[1] == 'train' for v in videos),
        num_test=sum(v[1] == 'test' for v in videos),
        num_instances=int(sum(n_inst)),
        num_points=len(rows),
        train_instances_without_point=no_point,
        mean_instances_per_video=float(np.mean(n_inst)) if n else 0.0,
        mean_snippets=total_T / max(n, 1),
        max_snippets=max((num_snippets(v[2]) for v in videos), default=0),
        mean_instance_seconds=float(lens.mean()) if len(lens) else 0.0,
        action_coverage=_action_coverage(videos),
        bytes_on_disk=_dir_size(out_dir))


def _ground_truth(out_dir: str, annotations: Optional[str],
                  num_classes: int, num_train: int, num_test: int,
                  feat_dim: int, seed: int, layout: VideoLayout,
                  model: FeatureModel, point_rel_std: float,
                  say: Callable[[str], None]
                  ) -> Tuple[str, List[str], List[Video]]:
    """Write or copy the ground truth; returns ``(mode, classes,
    videos)``."""
    if annotations is not None:
        # the dataset's parser: a file it would refuse is refused here
        database = dataset_parsers().load_gt_database(annotations)
        classes = class_list(database)
        videos = read_videos(annotations, database, classes)
        copy_ground_truth(annotations, out_dir, videos, classes, say)
        return 'annotations', classes, videos
    if num_classes < 1 or feat_dim < 1:
        raise ValueError('num_classes and feat_dim must be >= 1')
    if num_train < num_classes or num_test < 1:
        raise ValueError(
            f'num_train ({num_train}) must be >= num_classes '
            f'({num_classes}) so every class has a training point, and '
            'num_test >= 1')
    classes = [f'class_{i:02d}' for i in range(num_classes)]
    videos = draw_videos(seed, num_classes, num_train, num_test, layout)
    provenance = dict(seed=seed, num_classes=num_classes,
                      num_train=num_train, num_test=num_test,
                      feat_dim=feat_dim, layout=asdict(layout),
                      feature_model=asdict(model),
                      point_rel_std=point_rel_std)
    write_drawn_ground_truth(out_dir, videos, classes, provenance, seed)
    return 'synthetic', classes, videos


def generate_dataset(out_dir: str,
                     num_classes: int = 5,
                     num_train: int = 60,
                     num_test: int = 30,
                     feat_dim: int = 64,
                     seed: int = 0,
                     annotations: Optional[str] = None,
                     layout: VideoLayout = VideoLayout(),
                     model: FeatureModel = FeatureModel(),
                     point_rel_std: float = 1 / 6,
                     log: Optional[Callable[[str], None]] = print) -> dict:
    """Write a synthetic dataset root to ``out_dir`` and return a summary.

    Fully synthetic unless ``annotations`` names a ``gt_full.json``: then
    its videos, durations, fps, subsets and segments are kept (the file,
    and ``split_train.txt`` / ``split_test.txt`` / ``Ambiguous_test.txt``
    beside it, are copied), ``num_classes`` / ``num_train`` / ``num_test``
    are ignored and the class list is the file's labels.

    Same arguments give byte-identical files. Points are written for the
    training videos only (one per instance that starts inside its video),
    like THUMOS14's CSV.
    """
    t0 = time.time()
    say = log or (lambda s: None)
    os.makedirs(out_dir, exist_ok=True)
    mode, classes, videos = _ground_truth(out_dir, annotations, num_classes,
                                          num_train, num_test, feat_dim,
                                          seed, layout, model, point_rel_std,
                                          say)
    rows, no_point = _point_rows(videos, classes, seed, point_rel_std)
    _write_points(out_dir, rows)
    total_T = _write_features(out_dir, videos, seed, len(classes), feat_dim,
                              model, say)
    _write_marker(out_dir, mode, seed, feat_dim, annotations, layout, model,
                  point_rel_std)
    summary = _summary(out_dir, mode, seed, classes, feat_dim, videos, rows,
                       no_point, total_T)
    summary['seconds'] = time.time() - t0
    say(f'[synthetic] wrote {summary["num_train"]} train + '
        f'{summary["num_test"]} '
        f'test videos, {summary["num_instances"]} instances, '
        f'{summary["num_points"]} points, {len(classes)} classes, '
        f'D={feat_dim} to {summary["out_dir"]} '
        f'({summary["bytes_on_disk"] / 2 ** 20:.1f} MiB, '
        f'{summary["seconds"]:.1f} s)')
    return summary
