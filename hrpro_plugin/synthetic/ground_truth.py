"""The ground truth of a synthetic dataset root, in either mode: videos,
instances and classes drawn (fully synthetic), or read from a real
``gt_full.json`` (annotations mode); written as ``gt_full.json`` and
``split_{train,test}.txt``, or copied beside the real file's."""
import json
import os.path as osp
import shutil
from typing import Callable, Dict, List, NamedTuple

import numpy as np

from .dataset_parsers import dataset_parsers
from .params import SYNTHETIC_FPS, VideoLayout, subset_to_split
from .videos import sample_video, video_rng

__all__ = [
    'Video', 'class_list', 'draw_videos', 'write_drawn_ground_truth',
    'read_videos', 'copy_ground_truth'
]


class Video(NamedTuple):
    """One video of the dataset root."""
    name: str
    split: str  # 'train' or 'test'
    duration: float  # seconds
    fps: float  # native frame rate
    segments: np.ndarray  # [N, 2] seconds
    labels: np.ndarray  # [N] class indices
    frames: np.ndarray  # [N, 2] native frames


def class_list(database: dict) -> List[str]:
    """Labels of the file, ordered by ``label_id`` where every annotation
    has one, else alphabetically."""
    ids = {}
    complete = True
    for v in database.values():
        for a in v.get('annotations', []):
            if 'label_id' in a:
                ids.setdefault(a['label'], int(a['label_id']))
            else:
                complete = False
                ids.setdefault(a['label'], None)
    if complete and ids and len(set(ids.values())) == len(ids):
        return sorted(ids, key=lambda k: ids[k])
    return sorted(ids)


# ------------------------------------------------------- fully synthetic
def draw_videos(seed: int, num_classes: int, num_train: int, num_test: int,
                layout: VideoLayout) -> List[Video]:
    """The train then test videos, each class the primary class of a
    training video at least (``num_train >= num_classes``)."""
    probs = np.asarray(layout.classes_per_video_probs[:num_classes], float)
    probs /= probs.sum()
    rng_meta = np.random.default_rng([int(seed), 0xC1A55])
    videos = []
    for split, count, stream in (('train', num_train, 1),
                                 ('test', num_test, 2)):
        primary = rng_meta.permutation(np.arange(count) % num_classes)
        for i in range(count):
            vrng = video_rng(seed, i, stream)
            k = 1 + int(vrng.choice(len(probs), p=probs))
            others = vrng.permutation(
                np.setdiff1d(np.arange(num_classes), [primary[i]]))[:k - 1]
            vcls = np.concatenate([[primary[i]], others]).astype(np.int64)
            dur, segs, labels = sample_video(vrng, vcls, layout)
            fps = float(layout.fps)
            videos.append(Video(f'synthetic_{split}_{i:04d}', split, dur, fps,
                                segs, labels, np.round(segs * fps, 6)))
    return videos


def write_drawn_ground_truth(out_dir: str, videos: List[Video],
                             classes: List[str], provenance: dict,
                             seed: int) -> None:
    """``gt_full.json`` (with ``provenance`` under ``"synthetic"``) and the
    split files of drawn videos."""
    database = {}
    for name, split, dur, fps, segs, labels, frames in videos:
        database[name] = dict(
            subset='Validation' if split == 'train' else 'Test',
            duration=dur,
            fps=fps,
            annotations=[{
                'label': classes[int(c)],
                'segment': [float(s), float(e)],
                'segment(frames)': [float(fs), float(fe)],
                'label_id': int(c)
            } for (s, e), (fs, fe), c in zip(segs, frames, labels)])
    gt = {'version': f'synthetic-hrpro-v1 (seed={seed})',
          'synthetic': provenance,
          'database': database}
    with open(osp.join(out_dir, 'gt_full.json'), 'w') as f:
        json.dump(gt, f, indent=1)
        f.write('\n')
    for split in ('train', 'test'):
        with open(osp.join(out_dir, f'split_{split}.txt'), 'w') as f:
            f.writelines(f'{v[0]}\n' for v in videos if v[1] == split)


# ------------------------------------------------------ annotations mode
def read_videos(annotations: str, database: Dict[str, dict],
                classes: List[str]) -> List[Video]:
    """The videos of a real ``gt_full.json`` (already checked), sorted by
    name; the split is the one of ``split_{train,test}.txt`` beside the
    file, else the video's subset."""
    cidx = {c: i for i, c in enumerate(classes)}
    src = osp.dirname(osp.abspath(annotations))
    split_of = {}
    for split in ('train', 'test'):
        p = osp.join(src, f'split_{split}.txt')
        if osp.exists(p):
            # the dataset's parser: a name listed twice is an error
            for v in dataset_parsers().load_split(p):
                split_of.setdefault(v, split)
    videos = []
    for name in sorted(database):
        v = database[name]
        split = split_of.get(name) or subset_to_split(v['subset'])
        fps = float(v.get('fps', SYNTHETIC_FPS))
        anns = v.get('annotations', [])
        segs = np.asarray([a['segment'] for a in anns], float).reshape(-1, 2)
        labels = np.asarray([cidx[a['label']] for a in anns], np.int64)
        frames = np.asarray([
            a.get('segment(frames)',
                  [a['segment'][0] * fps, a['segment'][1] * fps])
            for a in anns
        ], float).reshape(-1, 2)
        videos.append(Video(name, split, float(v['duration']), fps, segs,
                            labels, frames))
    return videos


def copy_ground_truth(annotations: str, out_dir: str, videos: List[Video],
                      classes: List[str], say: Callable[[str], None]) -> None:
    """Copy ``gt_full.json`` and the split / ambiguous files beside it into
    ``out_dir`` (a missing split file is written from the videos' splits);
    warn of classes without a training instance."""
    src = osp.dirname(osp.abspath(annotations))
    if osp.abspath(annotations) != osp.abspath(
            osp.join(out_dir, 'gt_full.json')):
        shutil.copyfile(annotations, osp.join(out_dir, 'gt_full.json'))
    for fname in ('split_train.txt', 'split_test.txt', 'Ambiguous_test.txt'):
        p = osp.join(src, fname)
        dst = osp.join(out_dir, fname)
        if osp.exists(p):
            if osp.abspath(p) != osp.abspath(dst):
                shutil.copyfile(p, dst)
        elif fname != 'Ambiguous_test.txt':
            split = fname[len('split_'):-len('.txt')]
            with open(dst, 'w') as f:
                f.writelines(f'{v[0]}\n' for v in videos if v[1] == split)
    missing = sorted(
        set(classes) -
        {classes[int(c)]
         for v in videos if v[1] == 'train' for c in v[5]})
    if missing:
        say(f'[synthetic] warning: classes without a training instance: '
            f'{missing}')
