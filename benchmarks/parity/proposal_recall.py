"""How well a proposal file fits the ground truth: for the ``test`` part,
the share of ground-truth instances that have a proposal of their class
within each tIoU; for the ``train`` part, the tIoU of each RP with the
best ground-truth instance of its class, and how the RPs miss it: too
long (an RP that holds its instance), too short (inside it) or shifted.

    python benchmarks/parity/proposal_recall.py proposals.json \
        data/synthetic_thumos256/gt_full.json

``proposals.json`` is what ``export_proposals.py`` writes (seconds, by class
name); ``gt_full.json`` the dataset's annotation file. Recall here bounds
what any re-scoring of those proposals can reach at that tIoU.
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict, Sequence

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

from hrpro_plugin.ops.tiou import fit_kind, pairwise_tiou_np  # noqa: E402

THRESHOLDS = (0.3, 0.5, 0.7, 0.9)


def best_tiou(boxes: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """For each row of ``targets [G, 2]``, its highest tIoU with ``boxes
    [N, 2]`` (0 where ``boxes`` is empty)."""
    tiou = pairwise_tiou_np(targets, boxes)                        # [G, N]
    return tiou.max(1) if tiou.shape[1] else np.zeros(len(tiou))


def _by_class(database: dict, video: str) -> Dict[str, np.ndarray]:
    """Ground-truth segments of ``video`` by class name."""
    if video not in database:
        raise SystemExit(f'video {video} of the proposal file is not in '
                         'the annotation file')
    out: Dict[str, list] = {}
    for a in database[video]['annotations']:
        out.setdefault(a['label'], []).append(a['segment'])
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def gt_recall(part: dict, database: dict) -> np.ndarray:
    """Best tIoU of every ground-truth instance of the videos of ``part``
    with the ``PP`` of its class."""
    out = []
    for video, entry in part.items():
        for label, seg in _by_class(database, video).items():
            cand = np.asarray(entry['PP'].get(label, []),
                              dtype=np.float64).reshape(-1, 3)[:, :2]
            out.append(best_tiou(cand, seg))
    return np.concatenate(out) if out else np.zeros(0)


def rp_fit(part: dict, database: dict) -> np.ndarray:
    """tIoU of every RP of ``part`` with the best instance of its class."""
    out = []
    for video, entry in part.items():
        gts = _by_class(database, video)
        for label, rows in entry['RP'].items():
            rp = np.asarray(rows, dtype=np.float64).reshape(-1, 3)[:, :2]
            out.append(best_tiou(gts.get(label, np.zeros((0, 2))), rp))
    return np.concatenate(out) if out else np.zeros(0)


FITS = ('too long', 'too short', 'shifted')


def fit_kinds(boxes: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """For each row of ``boxes [N, 2]``, how it misses the row of
    ``targets [G, 2]`` it overlaps best (:func:`hrpro_plugin.ops.tiou.
    fit_kind`, an index into :data:`FITS`); 2 (shifted) where ``targets``
    is empty."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 2)
    if not len(targets):
        return np.full(len(boxes), 2, dtype=np.int64)
    best = np.asarray(targets, dtype=np.float64).reshape(-1, 2)[
        pairwise_tiou_np(boxes, targets).argmax(1)]
    return fit_kind(torch.from_numpy(boxes), torch.from_numpy(best),
                    eps=1e-9).numpy()


def rp_kinds(part: dict, database: dict) -> np.ndarray:
    """:func:`fit_kinds` of every RP of ``part`` (in :func:`rp_fit`'s
    order) against the instances of its class."""
    out = []
    for video, entry in part.items():
        gts = _by_class(database, video)
        for label, rows in entry['RP'].items():
            rp = np.asarray(rows, dtype=np.float64).reshape(-1, 3)[:, :2]
            out.append(fit_kinds(rp, gts.get(label, np.zeros((0, 2)))))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def shares(values: np.ndarray, thresholds: Sequence[float] = THRESHOLDS
           ) -> str:
    return ', '.join(f'>= {t:g}: {100 * float((values >= t).mean()):.1f}%'
                     for t in thresholds)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('proposals')
    p.add_argument('annotations')
    args = p.parse_args(argv)
    with open(args.proposals) as f:
        data = json.load(f)
    with open(args.annotations) as f:
        database = json.load(f)['database']
    if data.get('test'):
        r = gt_recall(data['test'], database)
        print(f'test: {len(r)} instances; with a candidate of their class '
              f'at tIoU {shares(r)}')
    if data.get('train'):
        r = rp_fit(data['train'], database)
        print(f'train: {len(r)} RPs; mean tIoU with their instance '
              f'{r.mean():.3f}; {shares(r)}')
        k = rp_kinds(data['train'], database)
        print('train: RPs ' + ', '.join(
            f'{name} {100 * float((k == i).mean()):.1f}% (mean tIoU '
            f'{r[k == i].mean() if (k == i).any() else float("nan"):.3f})'
            for i, name in enumerate(FITS)))


if __name__ == '__main__':
    main()
