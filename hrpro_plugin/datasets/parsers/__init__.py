"""The one parser and checker of the dataset files, used by the dataset,
``tools/eval_map.py``, ``tools/make_point_labels.py``, inference and the
synthetic generator, so that every tool accepts and rejects the same files.

One module a kind of file (see ``docs/method.md``, "Data"):

- :mod:`.gt_database`: ``gt_full.json``;
- :mod:`.point_csv`: ``point_labels/point_gaussian.csv``;
- :mod:`.splits`: ``split_*.txt``, one video name a line, each once;
- :mod:`.features`: ``<dir>/<video>.npy`` ``[T, D]`` or
  ``<dir>/{rgb,flow}/<video>.npy``;
- :mod:`.text_files`: paths and UTF-8 text (a byte-order mark at the
  start is accepted; other bytes are refused with their byte offset and
  line);
- :mod:`.errors`: :class:`DataError`, naming the file, the video or CSV
  row, and what was expected; a missing file raises
  :class:`MissingFileError`, both a ``DataError`` and a
  ``FileNotFoundError``.

These modules import numpy and the standard library only (the synthetic
generator loads this package by path, without torch or OpenMMLab).
"""
from .errors import DataError, MissingFileError
from .features import (check_feature_array, check_feature_file,
                       check_features_finite, common_feature_width,
                       feature_layout, feature_paths_for, infer_feat_dim,
                       load_feature_file, transposed_hint)
from .gt_database import (KNOWN_PAST_END, SEGMENT_END_TOLERANCE_S,
                          VideoAnnotation, annotation_classes,
                          check_video_entry, load_gt_database,
                          parse_video_annotation, video_segments)
from .point_csv import (REQUIRED_CSV_COLUMNS, PointRow,
                        check_point_videos, classes_from_class_index,
                        frame_to_snippet, load_point_csv)
from .splits import load_split
from .text_files import read_text, resolve_path

__all__ = [
    'DataError', 'MissingFileError', 'PointRow', 'VideoAnnotation',
    'resolve_path', 'read_text', 'load_split', 'load_gt_database',
    'check_video_entry', 'annotation_classes', 'parse_video_annotation',
    'video_segments', 'load_point_csv', 'check_point_videos',
    'classes_from_class_index', 'frame_to_snippet', 'feature_layout',
    'feature_paths_for', 'check_feature_file', 'check_feature_array',
    'check_features_finite', 'load_feature_file', 'transposed_hint',
    'common_feature_width', 'infer_feat_dim', 'REQUIRED_CSV_COLUMNS',
    'SEGMENT_END_TOLERANCE_S', 'KNOWN_PAST_END'
]
