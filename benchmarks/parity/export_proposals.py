"""Write this package's stage-1 proposals in the layout the authors' stage 2
reads (``outputs/proposals.json`` of github.com/pipixin321/HR-Pro), so that
their stage 2 can be trained and tested on exactly the proposals ours uses.
That separates the two stages when the two codes are compared: the same
stage-1 output goes into both stage 2s.

    python benchmarks/parity/export_proposals.py configs/hrpro_thumos14.py \
        work_dirs/run/stage1.pth work_dirs/run/mined_proposals.pt \
        --data-root data/synthetic_thumos256 --out /path/to/proposals.json

* ``train``: the mined PP / RP / NP of the proposal file (what our stage 2
  trains on), unchanged;
* ``test``: the candidates of every test video from the checkpoint (what
  our stage 2 refines at test time), capped by the config's
  ``test_cfg.max_candidates`` as our inference caps them.

Layout (as the authors' loader reads it): ``{subset: {video: {'PP': {class:
[[start_s, end_s, score], ...]}, 'RP': {class: [[start_s, end_s, score],
...]}, 'NP': [[start, end, 0.0], ...]}}}`` with PP / RP in seconds and NP in
snippets (its loader converts PP / RP back with fps / 16 and takes NP as
they are; it never reads the NP score). Nothing of the authors' code is
used here.
"""
import argparse
import json
import os.path as osp
import sys
import tempfile

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

import hrpro_plugin  # noqa: E402,F401
from hrpro_plugin.fileio.proposal_file import load_proposals  # noqa: E402
from hrpro_plugin.models.proposals.candidates import cap_candidates  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint', help='stage-1 (or stage-2) checkpoint')
    p.add_argument('proposals', help='proposal file the mining hook wrote')
    p.add_argument('--data-root')
    p.add_argument('--out', required=True)
    return p.parse_args(argv)


def _rows(cols, idx, names, sec, with_score=True):
    out = {}
    for i in idx.tolist():
        row = [float(cols['start'][i]) * sec, float(cols['end'][i]) * sec]
        if with_score:
            row.append(float(cols['score'][i]))
        out.setdefault(names[int(cols['label'][i])], []).append(row)
    return out


def train_part(data, classes, sec):
    videos = {}
    for v, name in enumerate(data['video_names']):
        entry = {}
        for key in ('pp', 'rp'):
            cols = data[key]
            idx = (cols['video_index'] == v).nonzero().flatten()
            entry[key.upper()] = _rows(cols, idx, classes, sec)
        cols = data['np']
        idx = (cols['video_index'] == v).nonzero().flatten()
        entry['NP'] = [[float(cols['start'][i]), float(cols['end'][i]), 0.0]
                       for i in idx.tolist()]
        videos[name] = entry
    return videos


@torch.no_grad()
def test_part(runner, classes):
    model = runner.model
    model.eval()
    cap = model.test_cfg['max_candidates']
    videos = {}
    for data in runner.test_dataloader:
        data = model.data_preprocessor(data, False)
        inputs, samples = data['inputs'], data['data_samples']
        sp = model.snippet_pass(inputs, samples, candidates=True)
        cand = cap_candidates(sp.candidates, cap)
        for b, ds in enumerate(samples):
            sec = float(ds.metainfo['snippet_seconds'])
            idx = (cand['batch_idx'] == b).nonzero().flatten()
            videos[ds.metainfo['video_name']] = {
                'PP': _rows(cand, idx, classes, sec)}
    return videos


def main(argv=None):
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.runner import Runner

    from hrpro_plugin.apis import fill_from_checkpoint
    from hrpro_plugin.apis.config import apply_data_root

    cfg = Config.fromfile(args.config)
    apply_data_root(cfg, args.data_root)
    cfg.work_dir = tempfile.mkdtemp(prefix='hrpro_export_')
    cfg.load_from = None
    cfg.train_dataloader = cfg.train_cfg = cfg.optim_wrapper = None
    cfg.param_scheduler = None
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    fill_from_checkpoint(cfg, args.checkpoint)
    runner = Runner.from_cfg(cfg)
    runner.load_checkpoint(args.checkpoint, map_location='cpu', strict=True)
    classes = list(runner.test_dataloader.dataset.metainfo['classes'])
    data = load_proposals(args.proposals)
    sec = float(runner.test_dataloader.dataset.snippet_seconds)
    out = dict(train=train_part(data, classes, sec),
               test=test_part(runner, classes))
    with open(args.out, 'w') as f:
        json.dump(out, f)
    n_pp = sum(len(r) for v in out['test'].values() for r in v['PP'].values())
    print(f'{args.out}: {len(out["train"])} training videos, '
          f'{len(out["test"])} test videos ({n_pp} test PP)')


if __name__ == '__main__':
    main()
