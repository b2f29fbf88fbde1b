"""Point-supervised temporal action localization dataset (snippet features).

One sample a video. ``load_data_list`` parses ``gt_full.json``, the split
file and the point CSV, checks every feature file cheaply (memory-mapped
header read, so ``T`` is known), and raises :class:`DataError` on anything
inconsistent; nothing is skipped silently.
"""
import os.path as osp
import logging
from collections import defaultdict
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from mmaction.registry import DATASETS, TRANSFORMS

from .annotations import (DataError, PointRow, annotation_classes,
                          check_feature_file, classes_from_class_index,
                          common_feature_width, feature_layout,
                          feature_paths_for, frame_to_snippet,
                          load_gt_database, load_point_csv, load_split,
                          parse_video_annotation, resolve_path)

__all__ = ['PointTALDataset']


def _short_list(items: Sequence[str], limit: int = 20) -> str:
    items = list(items)
    text = ', '.join(items[:limit])
    if len(items) > limit:
        text += f', ... ({len(items)} in all)'
    return text


def _check_holdout(holdout: Optional[dict]) -> Optional[dict]:
    if holdout is None:
        return None
    if not isinstance(holdout, dict):
        raise ValueError(f'holdout must be a dict(ratio=..., seed=..., '
                         f'use=...), got {holdout!r}')
    unknown = set(holdout) - {'ratio', 'seed', 'use'}
    if unknown:
        raise ValueError(f'holdout: unknown key(s) {sorted(unknown)}; '
                         'expected ratio, seed, use')
    ratio = holdout.get('ratio')
    seed = holdout.get('seed', 0)
    use = holdout.get('use')
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or \
            not 0 < ratio < 1:
        raise ValueError(f'holdout.ratio must be a number in (0, 1), got '
                         f'{ratio!r}')
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f'holdout.seed must be an integer, got {seed!r}')
    if use not in ('train', 'val'):
        raise ValueError(f"holdout.use must be 'train' or 'val', got {use!r}")
    return dict(ratio=float(ratio), seed=int(seed), use=use)


@DATASETS.register_module()
class PointTALDataset(BaseDataset):
    """Videos of one split with their snippet features, ground-truth
    segments and point labels.

    Args:
        data_root (str): Dataset root; the relative paths below are joined
            to it (absolute paths are used as they are).
        ann_file (str): ``gt_full.json``.
        split_file (str): Video names of this set, one a line.
        point_file (str, optional): Point CSV. ``None``: no points (only
            with ``require_points=False``).
        feature_dir (str): ``<feature_dir>/<video>.npy`` or
            ``<feature_dir>/{rgb,flow}/<video>.npy``.
        feat_dim (int, optional): Expected D (rgb + flow for the split
            layout). ``None``: taken from the first feature file; all files
            must agree either way.
        snippet_frames (int): Frames a snippet (16).
        feature_fps (float): Frame rate the features were extracted at (25).
        blocked_videos (Sequence[str]): Videos excluded from the set.
        length_tolerance (float, optional): the number of feature rows
            ``T`` must lie within this many snippets of the video's
            ``duration / snippet length`` (default 2: features cut at the
            last full or partial snippet, or with a window of one or two
            snippets at an end, pass); else a :class:`DataError` names the
            video, both lengths and the keys to fix. ``None`` disables it.
        holdout (dict, optional): a seeded split of the split file's videos
            into a training part and a held-out validation part:
            ``dict(ratio=0.2, seed=0, use='train')`` keeps the other 80 %,
            ``use='val'`` the held-out 20 % (``round(ratio x N)``, at least
            1, drawn after the blocked videos are removed and before videos
            without points are dropped, so the two parts are disjoint and
            the same for any ``require_points``). Validation sets use
            ``use='val'`` with ``require_points=False``; ground truth comes
            from ``gt_full.json`` as for a test set.
        require_points (bool): Training: videos without points are excluded
            (one warning lists them) and every class needs a point. Test
            sets use False; points are still loaded where the CSV has them.
        metainfo (dict, optional): ``dict(classes=[...])`` fixes the class
            list (e.g. from a checkpoint's ``dataset_meta``).
        pipeline (list): Transforms.
        test_mode (bool): As in :class:`mmengine.dataset.BaseDataset`.
        **kwargs: Other :class:`BaseDataset` arguments (``serialize_data``,
            ``lazy_init``, ``indices``, ...).

    ``metainfo['classes']`` is the class list (a tuple of names); label ``i``
    is ``classes[i]``.
    """

    METAINFO: dict = dict()

    def __init__(self,
                 data_root: str,
                 ann_file: str = 'gt_full.json',
                 split_file: str = 'split_train.txt',
                 point_file: Optional[str] = 'point_labels/point_gaussian.csv',
                 feature_dir: str = 'features/train',
                 feat_dim: Optional[int] = None,
                 snippet_frames: int = 16,
                 feature_fps: float = 25.0,
                 blocked_videos: Sequence[str] = (),
                 length_tolerance: Optional[float] = 2.0,
                 holdout: Optional[dict] = None,
                 require_points: bool = True,
                 metainfo: Optional[dict] = None,
                 pipeline: List[Union[dict, Callable]] = [],
                 test_mode: bool = False,
                 **kwargs) -> None:
        data_root = data_root or ''
        if feat_dim is not None and (int(feat_dim) != feat_dim
                                     or feat_dim < 1):
            raise ValueError(f'feat_dim must be a positive int or None, got '
                             f'{feat_dim!r}')
        if snippet_frames <= 0 or feature_fps <= 0:
            raise ValueError('snippet_frames and feature_fps must be > 0, got '
                             f'{snippet_frames} and {feature_fps}')
        if isinstance(blocked_videos, str):
            blocked_videos = (blocked_videos, )
        self.split_file = resolve_path(data_root, split_file)
        self.point_file = (None if point_file is None else resolve_path(
            data_root, point_file))
        self.feature_dir = resolve_path(data_root, feature_dir)
        self.expected_feat_dim = None if feat_dim is None else int(feat_dim)
        self.feat_dim: Optional[int] = self.expected_feat_dim
        self.snippet_frames = int(snippet_frames)
        self.feature_fps = float(feature_fps)
        self.snippet_seconds = self.snippet_frames / self.feature_fps
        self.blocked_videos = tuple(blocked_videos)
        self.length_tolerance = (None if length_tolerance is None else
                                 float(length_tolerance))
        self.require_points = bool(require_points)
        self.holdout = _check_holdout(holdout)
        kwargs.setdefault('data_prefix', dict())
        # build transforms from mmaction's registry so that the pipeline
        # resolves without a default scope (its parents are searched too)
        pipeline = [
            TRANSFORMS.build(t) if isinstance(t, dict) else t
            for t in (pipeline or [])
        ]
        super().__init__(
            # mmengine's BaseDataset joins data_root and ann_file itself
            ann_file=osp.expanduser(str(ann_file)),
            metainfo=metainfo,
            data_root=data_root,
            pipeline=pipeline,
            test_mode=test_mode,
            **kwargs)

    # ------------------------------------------------------------- classes
    def _class_list(self, database: Dict[str, dict],
                    rows: List[PointRow], has_index: bool) -> List[str]:
        ann_path, csv_path = self.ann_file, self.point_file
        given = self._metainfo.get('classes')
        ann_first = annotation_classes(database)
        csv_first: Dict[str, PointRow] = {}
        for r in rows:
            csv_first.setdefault(r.label, r)

        if given is not None:
            if isinstance(given, str) or not all(
                    isinstance(c, str) for c in given):
                raise DataError('metainfo classes must be a list of class '
                                f'names, got {given!r}')
            classes = list(given)
            dup = sorted({c for c in classes if classes.count(c) > 1})
            if dup:
                raise DataError(f'metainfo classes list {dup} more than once')
            origin = 'the metainfo classes'
        elif has_index:
            classes = classes_from_class_index(rows, csv_path)
            origin = f'the class_index column of {csv_path}'
        else:
            classes = sorted(set(ann_first) | set(csv_first))
            origin = 'the classes of the annotations and points'
        if not classes:
            raise DataError(f'{ann_path}: no class found (no annotation and '
                            'no point)')

        index = {c: i for i, c in enumerate(classes)}
        # annotations of any subset must use classes of the list
        for c, video in ann_first.items():
            if c not in index:
                raise DataError(
                    f'{ann_path}: class {c!r} (video {video}) is not in the '
                    f'class list from {origin} ({len(classes)} classes)')
        for c, r in csv_first.items():
            if c not in index:
                raise DataError(
                    f'{csv_path}: row {r.row} (video {r.video}): point of '
                    f'unknown class {c!r} (not in the class list from '
                    f'{origin})')
            if c not in ann_first:
                raise DataError(
                    f'{csv_path}: row {r.row} (video {r.video}): class {c!r} '
                    f'has points but no annotation in {ann_path}')
        if has_index and given is not None:
            for c, r in csv_first.items():
                if r.class_index != index[c]:
                    raise DataError(
                        f'{csv_path}: row {r.row}: class {c!r} has '
                        f'class_index {r.class_index} but index {index[c]} '
                        'in the metainfo classes')
        return classes

    # ----------------------------------------------------------- data list
    def load_data_list(self) -> List[dict]:
        split_path, csv_path, ann_path = (self.split_file, self.point_file,
                                          self.ann_file)
        videos = load_split(split_path)
        blocked = set(self.blocked_videos)
        if blocked:
            dropped = [v for v in videos if v in blocked]
            videos = [v for v in videos if v not in blocked]
            if dropped:
                print_log(
                    f'{split_path}: {len(dropped)} blocked video(s) excluded: '
                    f'{_short_list(dropped)}',
                    logger='current',
                    level=logging.INFO)
            if not videos:
                raise DataError(f'{split_path}: no video left after removing '
                                'the blocked videos')

        if self.holdout is not None:
            videos = self._holdout_part(videos, split_path)

        database = load_gt_database(ann_path)
        absent = [v for v in videos if v not in database]
        if absent:
            raise DataError(
                f'{split_path}: {len(absent)} video(s) of the split are not '
                f'in {ann_path}: {_short_list(absent)}')

        if csv_path is None:
            if self.require_points:
                raise DataError('point_file is None but require_points=True '
                                '(training needs point labels)')
            rows, has_index = [], False
        else:
            # a point of a video that is not in the annotations is an error
            rows, has_index = load_point_csv(csv_path, database=database,
                                             ann_path=ann_path)

        classes = self._class_list(database, rows, has_index)
        self._metainfo['classes'] = tuple(classes)
        index = {c: i for i, c in enumerate(classes)}

        in_set = set(videos)
        points_of: Dict[str, List[PointRow]] = defaultdict(list)
        for r in rows:
            if r.video in in_set:
                points_of[r.video].append(r)

        if self.require_points:
            no_points = [v for v in videos if not points_of.get(v)]
            if no_points:
                print_log(
                    f'{csv_path}: {len(no_points)} video(s) of {split_path} '
                    'have no point label and are excluded from training: '
                    f'{", ".join(no_points)}',
                    logger='current',
                    level=logging.WARNING)
                videos = [v for v in videos if points_of.get(v)]
            if not videos:
                raise DataError(f'{csv_path}: no video of {split_path} has a '
                                'point label')

        layout = feature_layout(self.feature_dir)
        files = []
        for video in videos:
            paths = feature_paths_for(self.feature_dir, video, layout)
            shapes = [check_feature_file(p, video) for p in paths]
            if any(t != shapes[0][0] for t, _ in shapes):
                raise DataError(
                    f'{paths[0]}: video {video}: rgb and flow features have '
                    f'different lengths ({" vs ".join(str(t) for t, _ in shapes)}'
                    ' snippets)')
            files.append((video, paths, shapes))
        # the width every file must have: the config's, else the one most
        # files have; the file that differs is named (and called transposed
        # where its first dimension is that width), never a good neighbour
        self.feat_dim = common_feature_width(files, self.expected_feat_dim,
                                             'the config')
        data_list = []
        no_duration = []
        for video, paths, shapes in files:
            ann = parse_video_annotation(database, video, ann_path)
            num_snippets = shapes[0][0]
            dim = self.feat_dim
            if ann.duration is None:
                no_duration.append(video)
            duration = (ann.duration if ann.duration is not None else
                        num_snippets * self.snippet_seconds)
            self._check_length(video, paths[0], num_snippets, ann.duration,
                               ann_path)

            pts = []
            for r in points_of.get(video, []):
                if r.frame < 0:
                    raise DataError(
                        f'{csv_path}: row {r.row} (video {video}): point '
                        f'frame {r.frame:g} is negative')
                t_sec = r.frame / ann.fps
                if t_sec > duration + self.snippet_seconds:
                    raise DataError(
                        f'{csv_path}: row {r.row} (video {video}): point '
                        f'frame {r.frame:g} ({t_sec:.2f} s at {ann.fps:g} '
                        f'fps) lies outside the video (duration '
                        f'{duration:.2f} s)')
                snip = frame_to_snippet(r.frame, ann.fps, self.feature_fps,
                                        self.snippet_frames, num_snippets)
                # exact time in snippet units (the reference's RP rule
                # compares proposals with the point's time, not its snippet)
                pos = r.frame * self.feature_fps / (ann.fps *
                                                    self.snippet_frames)
                pts.append((snip, index[r.label], pos))
            pts.sort(key=lambda p: p[0])  # stable: CSV order within a snippet
            point_snippets = np.asarray([p[0] for p in pts],
                                        dtype=np.int64).reshape(-1)
            point_labels = np.asarray([p[1] for p in pts],
                                      dtype=np.int64).reshape(-1)
            point_positions = np.asarray([p[2] for p in pts],
                                         dtype=np.float64).reshape(-1)
            gt_labels = np.asarray([index[c] for c in ann.labels],
                                   dtype=np.int64).reshape(-1)
            video_label = np.zeros(len(classes), dtype=np.float32)
            if len(gt_labels):
                video_label[gt_labels] = 1.0
            else:
                video_label[point_labels] = 1.0

            data_list.append(
                dict(
                    video_name=video,
                    subset=ann.subset,
                    duration=float(duration),
                    fps=float(ann.fps),
                    num_snippets=int(num_snippets),
                    snippet_seconds=float(self.snippet_seconds),
                    feat_dim=int(dim),
                    feature_paths=list(paths),
                    gt_segments=ann.segments,
                    gt_labels=gt_labels,
                    point_snippets=point_snippets,
                    point_labels=point_labels,
                    point_positions=point_positions,
                    video_label=video_label))

        if no_duration:
            # not an error (ActivityNet-style files may leave it out), but
            # never silent: predictions are then cut at the features' end
            print_log(
                f'{ann_path}: {len(no_duration)} video(s) have no "duration"; '
                'their length is taken from the features (snippets x '
                f'{self.snippet_seconds:g} s): {_short_list(no_duration)}',
                logger='current', level=logging.WARNING)
        if self.require_points:
            pointed = set()
            for info in data_list:
                pointed.update(info['point_labels'].tolist())
            unpointed = [c for i, c in enumerate(classes) if i not in pointed]
            if unpointed:
                raise DataError(
                    f'{csv_path}: class(es) {_short_list(unpointed)} have no '
                    f'point in the training videos of {split_path}; every '
                    'class needs at least one training point')
        return data_list

    def _holdout_part(self, videos: List[str], split_path: str) -> List[str]:
        ratio, seed, use = (self.holdout[k] for k in ('ratio', 'seed', 'use'))
        ordered = sorted(set(videos))
        n_held = min(max(1, int(round(ratio * len(ordered)))),
                     len(ordered) - 1)
        if n_held < 1:
            raise DataError(f'{split_path}: holdout needs at least 2 videos, '
                            f'the split has {len(ordered)}')
        perm = np.random.default_rng(seed).permutation(len(ordered))
        held = {ordered[i] for i in perm[:n_held]}
        part = [v for v in videos if (v in held) == (use == 'val')]
        print_log(f'{split_path}: holdout(ratio={ratio:g}, seed={seed}): '
                  f'{n_held} of {len(ordered)} videos held out for '
                  f'validation; this set uses the {use} part '
                  f'({len(part)} videos)', logger='current')
        return part

    def _check_length(self, video, path, num_snippets, duration, ann_path):
        if self.length_tolerance is None or duration is None:
            return
        expected = duration / self.snippet_seconds
        if abs(num_snippets - expected) <= self.length_tolerance:
            return
        raise DataError(
            f'{path}: video {video}: {num_snippets} feature rows '
            f'({num_snippets * self.snippet_seconds:.2f} s at '
            f'{self.snippet_seconds:g} s a snippet) but {ann_path} gives a '
            f'duration of {duration:.2f} s ({expected:.1f} snippets); more '
            f'than {self.length_tolerance:g} snippets apart. Check that the '
            'features belong to this video and the dataset\'s snippet_frames '
            f'({self.snippet_frames}) and feature_fps ({self.feature_fps:g}) '
            'match the extraction, or set length_tolerance (None disables '
            'the check)')

    def get_cat_ids(self, idx: int) -> List[int]:
        """Classes of the video (its multi-hot video label)."""
        return np.flatnonzero(
            self.get_data_info(idx)['video_label']).tolist()
