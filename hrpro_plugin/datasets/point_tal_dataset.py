"""Point-supervised temporal action localization dataset (snippet features).

One sample a video. ``load_data_list`` parses ``gt_full.json``, the split
file and the point CSV, checks every feature file cheaply (memory-mapped
header read, so ``T`` is known), and raises :class:`DataError` on anything
inconsistent; nothing is skipped silently.
"""
import os.path as osp
import logging
from collections import defaultdict
from typing import (Callable, Dict, List, Optional, Sequence, Tuple,
                    Union)

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from mmaction.registry import DATASETS, TRANSFORMS

from .class_list import dataset_classes
from .holdout import check_holdout, holdout_part
from .parsers.errors import DataError
from .parsers.features import (check_feature_file, common_feature_width,
                               feature_layout, feature_paths_for)
from .parsers.gt_database import load_gt_database, parse_video_annotation
from .parsers.point_csv import PointRow, frame_to_snippet, load_point_csv
from .parsers.splits import load_split
from .parsers.text_files import resolve_path

__all__ = ['PointTALDataset']


def _short_list(items: Sequence[str], limit: int = 20) -> str:
    items = list(items)
    text = ', '.join(items[:limit])
    if len(items) > limit:
        text += f', ... ({len(items)} in all)'
    return text


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
        self.holdout = check_holdout(holdout)
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

    # ----------------------------------------------------------- data list
    def load_data_list(self) -> List[dict]:
        """The split's videos, checked (the module docstring); one dict a
        video (see :meth:`_video_info`)."""
        split_path, csv_path, ann_path = (self.split_file, self.point_file,
                                          self.ann_file)
        videos = self._split_videos(split_path)
        database = load_gt_database(ann_path)
        absent = [v for v in videos if v not in database]
        if absent:
            raise DataError(
                f'{split_path}: {len(absent)} video(s) of the split are not '
                f'in {ann_path}: {_short_list(absent)}')
        rows, has_index = self._point_rows(database)
        classes = dataset_classes(self._metainfo.get('classes'), database,
                                  rows, has_index, ann_path, csv_path)
        self._metainfo['classes'] = tuple(classes)
        index = {c: i for i, c in enumerate(classes)}

        in_set = set(videos)
        points_of: Dict[str, List[PointRow]] = defaultdict(list)
        for r in rows:
            if r.video in in_set:
                points_of[r.video].append(r)
        if self.require_points:
            videos = self._videos_with_points(videos, points_of)

        data_list = []
        no_duration = []
        for video, paths, shapes in self._feature_files(videos):
            info = self._video_info(video, paths, shapes[0][0], database,
                                    points_of.get(video, []), index)
            if info.pop('no_duration'):
                no_duration.append(video)
            data_list.append(info)
        if no_duration:
            # not an error (ActivityNet-style files may leave it out), but
            # never silent: predictions are then cut at the features' end
            print_log(
                f'{ann_path}: {len(no_duration)} video(s) have no "duration"; '
                'their length is taken from the features (snippets x '
                f'{self.snippet_seconds:g} s): {_short_list(no_duration)}',
                logger='current', level=logging.WARNING)
        if self.require_points:
            self._check_every_class_pointed(data_list, classes)
        return data_list

    def _split_videos(self, split_path: str) -> List[str]:
        """The split file's videos less the blocked ones, then the holdout
        part where one is set."""
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
            videos = holdout_part(videos, split_path, self.holdout)
        return videos

    def _point_rows(self, database: Dict[str, dict]
                    ) -> Tuple[List[PointRow], bool]:
        """The point CSV's rows and whether it has ``class_index``."""
        if self.point_file is None:
            if self.require_points:
                raise DataError('point_file is None but require_points=True '
                                '(training needs point labels)')
            return [], False
        # a point of a video that is not in the annotations is an error
        return load_point_csv(self.point_file, database=database,
                              ann_path=self.ann_file)

    def _videos_with_points(self, videos: List[str],
                            points_of: Dict[str, List[PointRow]]
                            ) -> List[str]:
        """Training: the videos without a point are dropped (one warning
        lists them); none left is an error."""
        csv_path, split_path = self.point_file, self.split_file
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
        return videos

    def _feature_files(self, videos: List[str]) -> list:
        """``(video, paths, shapes)`` a video, each file's header checked;
        sets :attr:`feat_dim` to the width they share."""
        layout = feature_layout(self.feature_dir)
        files = []
        for video in videos:
            paths = feature_paths_for(self.feature_dir, video, layout)
            shapes = [check_feature_file(p, video) for p in paths]
            if any(t != shapes[0][0] for t, _ in shapes):
                lengths = ' vs '.join(str(t) for t, _ in shapes)
                raise DataError(
                    f'{paths[0]}: video {video}: rgb and flow features have '
                    f'different lengths ({lengths} snippets)')
            files.append((video, paths, shapes))
        # the width every file must have: the config's, else the one most
        # files have; the file that differs is named (and called transposed
        # where its first dimension is that width), never a good neighbour
        self.feat_dim = common_feature_width(files, self.expected_feat_dim,
                                             'the config')
        return files

    def _video_info(self, video: str, paths: List[str], num_snippets: int,
                    database: Dict[str, dict], rows: List[PointRow],
                    index: Dict[str, int]) -> dict:
        """One video's data info (plus ``no_duration``: whether the
        annotations lack its duration, then taken from the features)."""
        ann = parse_video_annotation(database, video, self.ann_file)
        duration = (ann.duration if ann.duration is not None else
                    num_snippets * self.snippet_seconds)
        self._check_length(video, paths[0], num_snippets, ann.duration,
                           self.ann_file)
        point_snippets, point_labels, point_positions = self._point_arrays(
            video, rows, ann.fps, duration, num_snippets, index)
        gt_labels = np.asarray([index[c] for c in ann.labels],
                               dtype=np.int64).reshape(-1)
        video_label = np.zeros(len(index), dtype=np.float32)
        if len(gt_labels):
            video_label[gt_labels] = 1.0
        else:
            video_label[point_labels] = 1.0
        return dict(
            video_name=video,
            subset=ann.subset,
            duration=float(duration),
            fps=float(ann.fps),
            num_snippets=int(num_snippets),
            snippet_seconds=float(self.snippet_seconds),
            feat_dim=int(self.feat_dim),
            feature_paths=list(paths),
            gt_segments=ann.segments,
            gt_labels=gt_labels,
            point_snippets=point_snippets,
            point_labels=point_labels,
            point_positions=point_positions,
            video_label=video_label,
            no_duration=ann.duration is None)

    def _point_arrays(self, video: str, rows: List[PointRow], fps: float,
                      duration: float, num_snippets: int,
                      index: Dict[str, int]):
        """A video's points sorted by snippet: snippets ``int64 [P]``,
        labels ``int64 [P]`` and exact positions in snippet units
        ``float64 [P]``; a point outside the video is an error."""
        csv_path = self.point_file
        pts = []
        for r in rows:
            if r.frame < 0:
                raise DataError(
                    f'{csv_path}: row {r.row} (video {video}): point '
                    f'frame {r.frame:g} is negative')
            t_sec = r.frame / fps
            if t_sec > duration + self.snippet_seconds:
                raise DataError(
                    f'{csv_path}: row {r.row} (video {video}): point '
                    f'frame {r.frame:g} ({t_sec:.2f} s at {fps:g} '
                    f'fps) lies outside the video (duration '
                    f'{duration:.2f} s)')
            snip = frame_to_snippet(r.frame, fps, self.feature_fps,
                                    self.snippet_frames, num_snippets)
            # exact time in snippet units (the reference's RP rule
            # compares proposals with the point's time, not its snippet)
            pos = r.frame * self.feature_fps / (fps * self.snippet_frames)
            pts.append((snip, index[r.label], pos))
        pts.sort(key=lambda p: p[0])  # stable: CSV order within a snippet
        return (np.asarray([p[0] for p in pts], dtype=np.int64).reshape(-1),
                np.asarray([p[1] for p in pts], dtype=np.int64).reshape(-1),
                np.asarray([p[2] for p in pts],
                           dtype=np.float64).reshape(-1))

    def _check_every_class_pointed(self, data_list: List[dict],
                                   classes: List[str]) -> None:
        pointed = set()
        for info in data_list:
            pointed.update(info['point_labels'].tolist())
        unpointed = [c for i, c in enumerate(classes) if i not in pointed]
        if unpointed:
            raise DataError(
                f'{self.point_file}: class(es) {_short_list(unpointed)} have '
                f'no point in the training videos of {self.split_file}; '
                'every class needs at least one training point')

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
