"""Stage 2 with exact reliable proposals: replace the boundaries of every
mined RP by those of the ground-truth instance that holds its point.

    python benchmarks/oracle_rp.py configs/hrpro_thumos14.py \
        work_dirs/run/mined_proposals.pt --data-root data/synthetic_thumos256 \
        --out work_dirs/run_oracle/mined_proposals.pt

Stage 2 learns completeness as the tIoU of a proposal with the video's RPs,
so its ceiling is set by how well the RPs fit the actions. This diagnostic
asks what stage 2 gives when the RPs fit exactly: train stage 2 again on
the written file (``swap_instance_head.py`` makes the work dir; copy this
file over its ``mined_proposals.pt``; ``tools/train.py ... --resume``).
PP, NP, RP labels and counts are unchanged; an RP whose point lies in no
ground-truth instance of its class keeps its boundaries (counted). It uses
ground truth, so its mAP is an upper reference, never a result.
"""
import argparse
import os
import os.path as osp
import sys

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import hrpro_plugin  # noqa: E402,F401
from hrpro_plugin.fileio.proposal_file import (load_proposals,  # noqa: E402
                                               save_proposals)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config')
    p.add_argument('proposals', help='proposal file the mining hook wrote')
    p.add_argument('--data-root')
    p.add_argument('--out', required=True)
    return p.parse_args(argv)


def exact_rp(rp: dict, video_index: int, point_snippet: torch.Tensor,
             segments: np.ndarray, labels: np.ndarray, sec: float
             ) -> torch.Tensor:
    """Indices (into ``rp``) of the RPs of ``video_index`` that were given
    the boundaries (in snippets) of the ground-truth instance of their
    class holding their point (time ``(point_snippet + 0.5) * sec``; the
    nearest centre where instances overlap). ``rp`` is changed in place."""
    idx = (rp['video_index'] == video_index).nonzero().flatten()
    if not idx.numel() or not len(segments):
        return idx[:0]
    seg = torch.as_tensor(np.asarray(segments, dtype=np.float64)).reshape(
        -1, 2)
    lab = torch.as_tensor(np.asarray(labels, dtype=np.int64)).reshape(-1)
    t = (point_snippet[idx].double() + 0.5) * sec                   # [R]
    inside = (seg[None, :, 0] <= t[:, None]) & \
        (t[:, None] <= seg[None, :, 1]) & \
        (lab[None, :] == rp['label'][idx, None])                    # [R, G]
    dist = (seg.mean(1)[None, :] - t[:, None]).abs()
    dist = torch.where(inside, dist, torch.full_like(dist, float('inf')))
    best = dist.argmin(1)
    hit = inside.any(1)
    rows = idx[hit]
    dtype = rp['start'].dtype
    rp['start'][rows] = (seg[best[hit], 0] / sec).to(dtype)
    rp['end'][rows] = (seg[best[hit], 1] / sec).to(dtype)
    return rows


def main(argv=None):
    args = parse_args(argv)
    from mmaction.registry import DATASETS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from hrpro_plugin.apis.config import apply_data_root

    cfg = Config.fromfile(args.config)
    apply_data_root(cfg, args.data_root)
    init_default_scope('mmaction')
    ds_cfg = cfg.train_dataloader.dataset
    dataset = DATASETS.build(ds_cfg)
    infos = {info['video_name']: info for info in
             map(dataset.get_data_info, range(len(dataset)))}
    data = load_proposals(args.proposals)
    rp = data['rp']
    n_set = 0
    for v, name in enumerate(data['video_names']):
        if name not in infos:
            raise SystemExit(f'{args.proposals}: video {name} is not in the '
                             f'training set of {args.config}')
        info = infos[name]
        n_set += exact_rp(rp, v, rp['point_snippet'], info['gt_segments'],
                          info['gt_labels'], info['snippet_seconds']).numel()
    n = rp['start'].numel()
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    save_proposals(args.out, data)
    print(f'{args.out}: {n_set} of {n} RPs given the boundaries of the '
          f'ground-truth instance holding their point ({n - n_set} kept)')


if __name__ == '__main__':
    main()
