"""Draw one point label per annotated action instance of a gt_full.json.

    python tools/make_point_labels.py --gt gt_full.json --out points.csv \\
        --distribution gaussian|uniform|center --seed 0 \\
        [--subset Validation training ...] [--fps-from-json]

Distributions (the paper's Table A):

* ``gaussian``: frame ~ N(centre, (length / 6)^2), clipped to the instance;
* ``uniform``: frame ~ U(start, end) inside the instance;
* ``center``: the middle frame of the instance.

Frames are at the video's native fps. An instance spans the frames
``start_frame .. stop_frame``: the annotation's ``segment(frames)`` where the
file has it (THUMOS14), else ``start_s * fps`` and
``end_s * fps`` rounded (halves up) with the video's ``fps`` (else ``num_frames /
duration``). ``--fps-from-json`` always converts the seconds with the
video's ``fps`` field (ignoring ``segment(frames)``; a video without
``fps`` is an error). The point is an integer frame in
``[start_frame, stop_frame]``.

Output: CSV with columns ``class,class_index,start_frame,stop_frame,
video_id,point`` (the layout of point_labels/point_gaussian.csv), sorted by
video then point. ``class_index`` is ``label_id`` where the file has it, else
the position in the sorted class list. Same arguments, same file.

``gt_full.json`` is read by the dataset's parser
(``hrpro_plugin.datasets.parsers``): a file the dataset refuses is
refused here, with the same one-line message (the traceback only with
``HRPRO_DEBUG=1``). ``--out`` may not be the ``--gt`` file, nor a split or
ambiguous-segment file beside it.
"""
import argparse
import csv
import glob
import math
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

import numpy as np

try:
    import hrpro_plugin  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from hrpro_plugin.datasets.parsers.errors import DataError  # noqa: E402
from hrpro_plugin.datasets.parsers.gt_database import (  # noqa: E402
    check_video_entry, load_gt_database, parse_video_annotation)
from hrpro_plugin.evaluation.functional.results_io import (  # noqa: E402
    refuse_overwriting_inputs)

DEFAULT_SUBSETS = ('Validation', 'training')
DISTRIBUTIONS = ('gaussian', 'uniform', 'center')
COLUMNS = ('class', 'class_index', 'start_frame', 'stop_frame', 'video_id',
           'point')


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Generate point labels (one a ground-truth instance)')
    p.add_argument('--gt', required=True, help='gt_full.json')
    p.add_argument('--out', required=True, help='CSV file to write')
    p.add_argument('--distribution', choices=DISTRIBUTIONS,
                   default='gaussian')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--subset', nargs='+', default=None,
                   help='subsets of gt_full.json to label (default: the '
                   "training subsets 'Validation' and 'training'); 'all' "
                   'for every video')
    p.add_argument('--fps-from-json', action='store_true',
                   help="convert segments (seconds) with each video's 'fps' "
                   "field, ignoring 'segment(frames)' (error where a video "
                   'has no fps)')
    return p.parse_args(argv)


def _video_fps(video: str, database: Dict[str, dict], strict: bool,
               path: str) -> float:
    """The video's ``fps`` (strict: the field, which must exist), else
    ``num_frames / duration`` (the dataset's rule)."""
    if strict and database[video].get('fps') is None:
        raise DataError(f'{path}: video {video!r} has no "fps" (needed by '
                        '--fps-from-json)')
    return parse_video_annotation(database, video, path).fps


def class_indices(database: Dict[str, dict]) -> Dict[str, int]:
    """``label_id`` where every annotation of a class has the same one,
    else the position in the sorted class list."""
    names = sorted({a['label'] for v in database.values()
                    for a in v.get('annotations', [])})
    ids: Dict[str, set] = {n: set() for n in names}
    for v in database.values():
        for a in v.get('annotations', []):
            ids[a['label']].add(a.get('label_id'))
    if names and all(len(s) == 1 and None not in s for s in ids.values()):
        out = {n: int(next(iter(ids[n]))) for n in names}
        if len(set(out.values())) == len(out):
            return out
    return {n: i for i, n in enumerate(names)}


def _round(x) -> int:
    """Nearest integer, halves up (not Python's round-half-even)."""
    return int(math.floor(float(x) + 0.5))


def draw_point(rng: np.random.Generator, start: int, stop: int,
               distribution: str) -> int:
    """One integer frame in ``[start, stop]``."""
    if stop <= start:
        return int(start)
    if distribution == 'center':
        return int(math.floor((start + stop) / 2))
    if distribution == 'uniform':
        return int(rng.integers(start, stop + 1))
    if distribution == 'gaussian':
        centre, std = (start + stop) / 2, (stop - start) / 6
        return int(np.clip(round(rng.normal(centre, std)), start, stop))
    raise ValueError(f'unknown distribution {distribution!r}; expected one '
                     f'of {DISTRIBUTIONS}')


def make_points(database: Dict[str, dict], distribution: str = 'gaussian',
                seed: int = 0, subsets: Optional[Sequence[str]] = None,
                fps_from_json: bool = False,
                path: str = 'gt_full.json') -> List[dict]:
    """Rows (dicts with :data:`COLUMNS`) of the point CSV.

    Videos are visited in sorted order and instances in file order, each
    drawing from one seeded generator, so the output depends on the seed,
    the distribution and the file only.
    """
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f'unknown distribution {distribution!r}; expected '
                         f'one of {DISTRIBUTIONS}')
    subsets = DEFAULT_SUBSETS if subsets is None else tuple(subsets)
    take_all = 'all' in subsets
    index = class_indices(database)
    rng = np.random.default_rng(seed)
    rows = []
    for video in sorted(database):
        entry = database[video]
        if not take_all and entry.get('subset') not in subsets:
            continue
        if not check_video_entry(entry, video, path):
            continue
        anns = entry['annotations']
        fps = _video_fps(video, database, fps_from_json, path)
        for i, ann in enumerate(anns):
            frames = None if fps_from_json else ann.get('segment(frames)')
            if frames is not None:
                start, stop = _round(frames[0]), _round(frames[1])
            else:
                seg = ann['segment']
                start = _round(float(seg[0]) * fps)
                stop = _round(float(seg[1]) * fps)
            if stop < start:
                raise DataError(f'{path}: video {video!r}, annotation {i}: '
                                f'reversed segment {ann.get("segment")}')
            point = draw_point(rng, start, stop, distribution)
            rows.append(dict(zip(COLUMNS, (ann['label'], index[ann['label']],
                                           start, stop, video, point))))
    rows.sort(key=lambda r: (r['video_id'], r['point']))
    return rows


def write_csv(path: str, rows: Sequence[dict]) -> None:
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator='\n')
        writer.writeheader()
        writer.writerows(rows)


def dataset_files_beside(gt: str) -> List[str]:
    """``gt`` and the split and ambiguous-segment files in its folder: the
    files ``--out`` must not replace."""
    folder = osp.dirname(osp.abspath(gt))
    return [gt] + sorted(glob.glob(osp.join(folder, 'split_*.txt'))) + [
        osp.join(folder, 'Ambiguous_test.txt')]


def run(args) -> List[dict]:
    refuse_overwriting_inputs(args.out, dataset_files_beside(args.gt),
                              flag='--out')
    database = load_gt_database(args.gt)
    rows = make_points(database, args.distribution, args.seed,
                       args.subset, args.fps_from_json, args.gt)
    if not rows:
        subsets = args.subset or list(DEFAULT_SUBSETS)
        raise DataError(f'no annotated instance in subsets {subsets} of '
                        f'{args.gt}')
    write_csv(args.out, rows)
    videos = len({r['video_id'] for r in rows})
    print(f'{len(rows)} {args.distribution} points for {videos} videos '
          f'(seed {args.seed}) written to {osp.abspath(args.out)}')
    return rows


def main(argv=None):
    """Errors in the input files exit with one line naming the file, the
    video and what was expected (``HRPRO_DEBUG=1``: the traceback)."""
    args = parse_args(argv)
    try:
        return run(args)
    except DataError as err:
        if os.environ.get('HRPRO_DEBUG'):
            raise
        sys.exit(f'error: {err}')


if __name__ == '__main__':
    main()
