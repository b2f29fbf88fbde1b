"""Synthetic point-supervised TAL datasets (pure numpy).

Writes a dataset root in the layout users already have (``gt_full.json``,
``split_{train,test}.txt``, ``point_labels/point_gaussian.csv``,
``features/{train,test}/<video>.npy``) with snippet features drawn from a
generative model that is learnable but not trivial. Two modes:

* fully synthetic: videos, instances, classes and features are all drawn;
* ``annotations=FILE``: the real file's videos, durations, fps, subsets and
  segments are kept (the file is copied as is); only features and training
  points are drawn.

Modules: :mod:`.params` (snippet geometry, :class:`VideoLayout`,
:class:`FeatureModel`), :mod:`.videos` (drawing videos, instances and
points), :mod:`.feature_model` (the features of one video),
:mod:`.ground_truth` (the annotations of either mode), :mod:`.writer`
(:func:`generate_dataset`: the dataset root) and :mod:`.dataset_parsers`
(the dataset's parser, for the annotations mode).

This package imports numpy and the standard library only (its modules
import one another relatively, nothing else of ``hrpro_plugin``) and
registers nothing, so ``tools/make_synthetic_dataset.py`` can load it by
path without importing torch or OpenMMLab. See ``docs/synthetic.md`` for
the model.
"""
from .feature_model import (instance_envelope, make_feature_bank,
                            synthesize_features)
from .params import (FEATURE_FPS, SNIPPET_FRAMES, SNIPPET_SECONDS,
                     SYNTHETIC_FPS, FeatureModel, VideoLayout, num_snippets,
                     subset_to_split)
from .videos import sample_points, sample_video
from .writer import GENERATOR, SYNTHETIC_MARKER, generate_dataset

__all__ = [
    'FEATURE_FPS', 'SNIPPET_FRAMES', 'SNIPPET_SECONDS', 'SYNTHETIC_FPS',
    'FeatureModel', 'VideoLayout', 'num_snippets', 'subset_to_split',
    'make_feature_bank', 'instance_envelope', 'synthesize_features',
    'sample_video', 'sample_points', 'SYNTHETIC_MARKER', 'GENERATOR',
    'generate_dataset'
]
