#!/usr/bin/env python
"""Write a synthetic point-supervised TAL dataset root.

Examples::

    # small fully synthetic set (5 classes, 60 train / 30 test videos, 64-d)
    python tools/make_synthetic_dataset.py --out data/synthetic

    # THUMOS14's real videos, segments and splits with synthetic 256-d features
    python tools/make_synthetic_dataset.py --out data/thumos14_synth \\
        --feat-dim 256 --annotations data/thumos14/gt_full.json

The generative model is described in docs/synthetic.md. Same arguments give
byte-identical files. Needs numpy only (torch / OpenMMLab are not imported).
"""
import argparse
import dataclasses
import importlib.util
import json
import os.path as osp
import os
import sys

_SYNTHETIC_DIR = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                          'hrpro_plugin', 'synthetic')


def _load_synthetic():
    """Load the package ``hrpro_plugin/synthetic`` by path (as
    ``_hrpro_synthetic``), so that ``hrpro_plugin/__init__.py`` (which
    imports torch and mmaction) is not run."""
    spec = importlib.util.spec_from_file_location(
        '_hrpro_synthetic', osp.join(_SYNTHETIC_DIR, '__init__.py'),
        submodule_search_locations=[_SYNTHETIC_DIR])
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Write a synthetic HR-Pro dataset (gt_full.json, splits, '
        'point_labels/point_gaussian.csv, features/{train,test}/*.npy).')
    p.add_argument('--out', required=True, help='dataset root to write')
    p.add_argument('--num-classes', type=int, default=5)
    p.add_argument('--num-train', type=int, default=60)
    p.add_argument('--num-test', type=int, default=30)
    p.add_argument('--feat-dim', type=int, default=64)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--mean-snippets',
                   type=float,
                   default=None,
                   help='mean video length in snippets (default 150; '
                   'THUMOS14 has ~330)')
    p.add_argument('--annotations',
                   default=None,
                   help='a real gt_full.json: keep its videos, segments, '
                   'durations, fps and splits; synthesise features and '
                   'training points only (--num-classes/--num-train/'
                   '--num-test/--mean-snippets are then ignored)')
    p.add_argument('--quiet', action='store_true', help='no progress lines')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    syn = _load_synthetic()
    layout = syn.VideoLayout()
    if args.mean_snippets is not None:
        layout = dataclasses.replace(layout, mean_snippets=args.mean_snippets)
    summary = syn.generate_dataset(args.out,
                                   num_classes=args.num_classes,
                                   num_train=args.num_train,
                                   num_test=args.num_test,
                                   feat_dim=args.feat_dim,
                                   seed=args.seed,
                                   annotations=args.annotations,
                                   layout=layout,
                                   log=None if args.quiet else print)
    if not args.quiet:
        brief = {k: v for k, v in summary.items() if k != 'classes'}
        print(json.dumps(brief, indent=1))
    return summary


if __name__ == '__main__':
    try:
        main()
    except Exception as err:  # noqa: BLE001
        # a bad --annotations file: one line, as the other tools print it
        # (matched by name: this tool does not import torch or the package's
        # DataError class)
        if type(err).__name__ != 'DataError' or os.environ.get('HRPRO_DEBUG'):
            raise
        sys.exit(f'error: {err}')
