"""The benchmark's dataset.

``--data-root`` is used as it is when it already holds a dataset
(``gt_full.json`` + ``features/``), e.g. real THUMOS14 I3D features.
Otherwise synthetic features are generated there, with the real THUMOS14
video lengths, segments and splits of the shipped
``data/thumos14/gt_full.json``. A stamp file makes a second run reuse the
data.

This is the one module of the benchmark that imports the dataset
generator and the feature-width parser.
"""
import json
import os.path as osp
import time

from hrpro_plugin.datasets import infer_feat_dim
from hrpro_plugin.synthetic import (SYNTHETIC_MARKER, VideoLayout,
                                    generate_dataset)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA_STAMP = 'speed_dataset.json'
# names the generator in the stamp (a changed value regenerates the data);
# the generator's module name when the first stamps were written
GENERATOR_ID = 'hrpro_plugin.datasets.synthetic'


def thumos_annotations() -> str:
    path = osp.join(ROOT, 'data', 'thumos14', 'gt_full.json')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} is missing: it ships with the '
                                'repository (data/README.md)')
    return osp.abspath(path)


def wanted_stamp(feat_dim: int, ann) -> dict:
    """What a stamp must hold for its data to be reused."""
    return dict(generator=GENERATOR_ID, seed=0, feat_dim=int(feat_dim),
                source=('THUMOS14 gt_full.json (real lengths, segments, '
                        'splits)' if ann else
                        'VideoLayout(mean_snippets=330), 200 train / 212 '
                        'test, 20 classes'))


def prepare_data(data_root: str, feat_dim: int, explicit_dim: bool) -> dict:
    """Use or generate the dataset; returns a description of it."""
    ann = thumos_annotations()
    want = wanted_stamp(feat_dim, ann)
    stamp_path = osp.join(data_root, DATA_STAMP)
    if osp.isfile(stamp_path):
        with open(stamp_path) as f:
            have = json.load(f)
        if {k: have.get(k) for k in want} == want:
            print(f'[speed] reusing synthetic data in {data_root}', flush=True)
            return dict(have, data_root=osp.abspath(data_root),
                        synthetic=True)
        print(f'[speed] {data_root} holds other synthetic data '
              f'({have.get("feat_dim")}-d); generating again', flush=True)
    elif osp.isfile(osp.join(data_root, 'gt_full.json')) and \
            osp.isdir(osp.join(data_root, 'features', 'train')):
        return existing_dataset(data_root, feat_dim, explicit_dim)
    return generate(data_root, feat_dim, ann, want, stamp_path)


def existing_dataset(data_root: str, feat_dim: int,
                     explicit_dim: bool) -> dict:
    """Describe a dataset found in ``data_root`` (used as it is)."""
    dim = infer_feat_dim(osp.join(data_root, 'features', 'train'))
    if explicit_dim and dim != feat_dim:
        raise SystemExit(f'--data-root {data_root} holds {dim}-d '
                         f'features but --feat-dim is {feat_dim}')
    synthetic = osp.isfile(osp.join(data_root, SYNTHETIC_MARKER))
    print(f'[speed] using the dataset in {data_root} as it is '
          f'({dim}-d{" synthetic" if synthetic else ""} features)',
          flush=True)
    return dict(data_root=osp.abspath(data_root), feat_dim=int(dim),
                source=('synthetic features (used as is, see '
                        f'{SYNTHETIC_MARKER})' if synthetic else
                        'user dataset (used as is)'),
                synthetic=synthetic)


def generate(data_root: str, feat_dim: int, ann, want: dict,
             stamp_path: str) -> dict:
    """Generate the synthetic dataset and write its stamp."""
    print(f'[speed] generating {feat_dim}-d synthetic data in {data_root} '
          f'({want["source"]})', flush=True)
    t0 = time.perf_counter()
    if ann:
        summary = generate_dataset(data_root, feat_dim=feat_dim, seed=0,
                                   annotations=ann)
    else:
        summary = generate_dataset(data_root, num_classes=20, num_train=200,
                                   num_test=212, feat_dim=feat_dim, seed=0,
                                   layout=VideoLayout(mean_snippets=330))
    have = dict(want, seconds=round(time.perf_counter() - t0, 1),
                num_train=summary['num_train'], num_test=summary['num_test'],
                mean_snippets=round(summary['mean_snippets'], 1),
                max_snippets=summary['max_snippets'])
    with open(stamp_path, 'w') as f:
        json.dump(have, f, indent=1)
    return dict(have, data_root=osp.abspath(data_root), synthetic=True)
