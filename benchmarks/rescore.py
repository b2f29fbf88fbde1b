"""How much mAP the scores leave on the table: test one checkpoint with its
own scores and with oracle scores on the same boxes.

    python benchmarks/rescore.py configs/hrpro_thumos14.py \
        work_dirs/run/stage2.pth --data-root data/synthetic_thumos256

One test pass; every row of the printed table scores the same network
outputs a different way, then runs the same class-wise soft-NMS and the
config's evaluator:

* ``stage 1``: the candidates with their OIC scores (the stage-1 result);
* ``model``: what ``tools/test.py`` scores (for a stage-2 checkpoint the
  originals and refined boxes, each scored OIC + p_comp);
* ``oracle, candidates``: the candidates, each scored by its tIoU with the
  best-matching ground-truth instance of its class and video (0 if none);
* ``oracle, candidates + refined``: the same for the stage-2 rows (the
  originals and their refined boxes; stage-2 checkpoints only).

The oracle rows use the test ground truth, so they are ceilings of a perfect
ranking of the same boxes, never results: the gap between ``model`` and
``oracle, candidates + refined`` is what better scores could still win, and
the gap between the two oracle rows is what the regression adds to the
boxes themselves.

For a stage-2 checkpoint it also prints, per bin of true tIoU, how many of
the stage-2 rows fall in it and their mean OIC and p_comp: how well each of
the two terms of the score separates well-fitting boxes from the rest, and
the rank correlation (Spearman, ties averaged) of each term with the true
tIoU over all those rows and over the rows at tIoU >= 0.5; then the same
means split by how each row misses its instance: too long (it holds the
instance), too short (inside it) or shifted.
"""
import argparse
import os.path as osp
import sys
from collections import OrderedDict
from typing import Dict, List, Sequence

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import hrpro_plugin  # noqa: E402,F401
from hrpro_plugin.ops.tiou import (fit_kind as tiou_fit_kind,  # noqa: E402
                                   pairwise_tiou)

ROWS = ('stage 1', 'model', 'oracle, candidates',
        'oracle, candidates + refined')
TIOU_BINS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)


def parse_args(argv=None):
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--data-root')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   default={})
    p.add_argument('--out', help='also write the table as JSON')
    return p.parse_args(argv)


def oracle_match(start: torch.Tensor, end: torch.Tensor,
                 label: torch.Tensor, batch_idx: torch.Tensor,
                 gt_segments: Sequence[torch.Tensor],
                 gt_labels: Sequence[torch.Tensor]):
    """``(tIoU [N], instance [N, 2])``: for each row ``(start, end)``, its
    tIoU with the best ground-truth instance of its label in its video
    (``gt_*[batch_idx]``, same units) and that instance's bounds; tIoU 0
    where the video has none of that label. Flat ``[N]`` rows, padded
    ``[B, G]`` ground truth: no loop over rows."""
    n, b = start.numel(), len(gt_segments)
    g = max([int(s.shape[0]) for s in gt_segments] + [1])
    seg = start.new_zeros(b, g, 2)
    lab = torch.full((b, g), -1, dtype=torch.long, device=start.device)
    for i, (s, c) in enumerate(zip(gt_segments, gt_labels)):
        seg[i, :s.shape[0]] = s.to(seg)
        lab[i, :c.numel()] = c.to(lab)
    if n == 0:
        return start.new_zeros(0), start.new_zeros(0, 2)
    rows = torch.stack([start, end], -1)[:, None]            # [N, 1, 2]
    iou = pairwise_tiou(rows, seg[batch_idx])[:, 0]          # [N, G]
    iou = torch.where(lab[batch_idx] == label[:, None].long(), iou,
                      torch.zeros_like(iou))
    best, j = iou.max(1)
    return best, seg[batch_idx, j]


def oracle_scores(*args) -> torch.Tensor:
    """The tIoU of :func:`oracle_match` alone (same arguments)."""
    return oracle_match(*args)[0]


FITS = ('holds its instance (too long)', 'inside its instance (too short)',
        'shifted')


def fit_kind(start: torch.Tensor, end: torch.Tensor,
             instance: torch.Tensor) -> torch.Tensor:
    """``[N]`` index into :data:`FITS` of each row against its instance
    (:func:`hrpro_plugin.ops.tiou.fit_kind`)."""
    return tiou_fit_kind(torch.stack([start, end], -1), instance)


def binned_sums(tiou: torch.Tensor, values: Sequence[torch.Tensor],
                edges: Sequence[float] = TIOU_BINS) -> torch.Tensor:
    """``[len(edges) - 1, 1 + len(values)]``: per tIoU bin ``[lo, hi)`` (the
    last one closed), the row count and the sum of each of ``values``."""
    e = torch.tensor(edges, dtype=tiou.dtype, device=tiou.device)
    b = (torch.bucketize(tiou, e[1:-1], right=True)).long()
    out = torch.zeros(len(edges) - 1, 1 + len(values), dtype=torch.float64)
    out[:, 0] = torch.bincount(b, minlength=len(edges) - 1).double().cpu()
    for j, v in enumerate(values, 1):
        out[:, j] = torch.bincount(b, weights=v.double(),
                                   minlength=len(edges) - 1).cpu()
    return out


def average_ranks(x: torch.Tensor) -> torch.Tensor:
    """Ranks 1..N of ``x [N]``, tied values sharing their mean rank."""
    values, inverse, counts = torch.unique(x, return_inverse=True,
                                           return_counts=True)
    before = torch.cumsum(counts, 0) - counts
    return (before + (counts + 1) / 2.0).double()[inverse]


def rank_correlation(x: torch.Tensor, y: torch.Tensor) -> float:
    """Spearman's rho of ``x`` and ``y`` (``[N]``): the Pearson
    correlation of their average ranks; NaN for fewer than 2 rows or a
    constant input."""
    if x.numel() < 2:
        return float('nan')
    rx, ry = average_ranks(x), average_ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    den = (rx.square().sum() * ry.square().sum()).sqrt()
    return float((rx * ry).sum() / den) if den > 0 else float('nan')


def scored_rows(model, inputs, data_samples) -> Dict[str, tuple]:
    """``{row name: (start, end, label, batch_idx, score)}`` of one batch,
    all from one stage-1 pass (and one instance-head pass); a stage-2
    checkpoint adds ``'terms'``: ``(true tIoU, OIC, p_comp, fit kind)`` of
    its rows (:func:`fit_kind`)."""
    from hrpro_plugin.models.proposals.candidates import cap_candidates

    sp = model.snippet_pass(inputs, data_samples, candidates=True)
    cand = cap_candidates(sp.candidates, model.test_cfg['max_candidates'])
    sec = [float(ds.metainfo['snippet_seconds']) for ds in data_samples]
    gt_seg = [ds.gt_instances.segments / s for ds, s in zip(data_samples,
                                                            sec)]
    gt_lab = [ds.gt_instances.labels for ds in data_samples]
    c = (cand['start'].float(), cand['end'].float(), cand['label'],
         cand['batch_idx'])
    out = OrderedDict()
    out['stage 1'] = c + (cand['score'].float(), )
    stage2 = model.instance_head is not None and model.current_stage == 2
    if stage2:
        f = model.instance_predictions(sp, inputs, cand)
        fr = (f['start'].float(), f['end'].float(), f['label'],
              f['batch_idx'])
        out['model'] = fr + (f['score'].float(), )
    else:
        out['model'] = out['stage 1']
    out['oracle, candidates'] = c + (oracle_scores(*c, gt_seg, gt_lab), )
    if stage2:
        tiou, inst = oracle_match(*fr, gt_seg, gt_lab)
        out['oracle, candidates + refined'] = fr + (tiou, )
        oic = cand['score'].float()[f['source']]
        out['terms'] = (tiou, oic, f['score'].float() - oic,
                        fit_kind(fr[0], fr[1], inst))
    return out


def main(argv=None):
    args = parse_args(argv)
    from mmaction.registry import RUNNERS
    from mmengine.config import Config
    from mmengine.runner import Runner

    sys.path.insert(0, osp.join(osp.dirname(osp.dirname(
        osp.abspath(__file__))), 'tools'))
    from test import merge_args  # tools/test.py

    cfg = Config.fromfile(args.config)
    ns = argparse.Namespace(
        config=args.config, checkpoint=args.checkpoint, work_dir=None,
        out=None, dump=None, metrics_out=None, per_class=False,
        show_dir=None, show=False, interval=1, wait_time=0,
        data_root=args.data_root, cfg_options=args.cfg_options,
        launcher='none', local_rank=0)
    cfg = merge_args(cfg, ns)
    runner = (RUNNERS.build(cfg) if 'runner_type' in cfg else
              Runner.from_cfg(cfg))
    runner.load_checkpoint(args.checkpoint, map_location='cpu', strict=True)
    model = runner.model
    model.eval()
    loader = runner.build_dataloader(cfg.test_dataloader)
    evaluators = OrderedDict()
    for name in ROWS:
        ev = runner.build_evaluator(cfg.test_evaluator)
        ev.dataset_meta = loader.dataset.metainfo
        evaluators[name] = ev
    from mmengine.utils import ProgressBar
    bar = ProgressBar(len(loader))
    terms = []
    with torch.no_grad():
        for data_batch in loader:
            data = model.data_preprocessor(data_batch, False)
            inputs, samples = data['inputs'], data['data_samples']
            rows = scored_rows(model, inputs, samples)
            if 'terms' in rows:
                terms.append(rows.pop('terms'))
            video_scores = torch.zeros(len(samples), 1)
            for name, (s, e, lab, b, score) in rows.items():
                evaluators[name].process(
                    model.detect(samples, s, e, lab, b, score, video_scores),
                    data_batch)
            bar.update()
    print()
    table = OrderedDict()
    for name, ev in evaluators.items():
        if ev.metrics[0].results:
            table[name] = ev.evaluate(len(loader.dataset))
    print_table(table)
    bins = corr = None
    if terms:
        tiou, oic, p_comp, kind = (torch.cat(t) for t in zip(*terms))
        bins = binned_sums(tiou, [oic, p_comp])
        by_fit = [binned_sums(tiou[kind == k], [oic[kind == k],
                                                p_comp[kind == k]])
                  for k in range(len(FITS))]
        hi = tiou >= 0.5
        corr = {f'{name}, {part}': rank_correlation(v[sel], tiou[sel])
                for name, v in (('OIC', oic), ('p_comp', p_comp))
                for part, sel in (('all rows', slice(None)),
                                  ('tIoU >= 0.5', hi))}
        print_bins(bins)
        print('rank correlation with the true tIoU: ' + ', '.join(
            f'{k} {v:.3f}' for k, v in corr.items()))
        print_bins(by_fit)
    if args.out:
        import json
        out = {k: {m: float(v) for m, v in r.items()}
               for k, r in table.items()}
        if bins is not None:
            out['bins'] = bin_rows(bins)
            out['rank_correlation'] = corr
            out['bins_by_fit'] = {name: bin_rows(b)
                                  for name, b in zip(FITS, by_fit)}
        with open(args.out, 'w') as fh:
            json.dump(out, fh, indent=1)
    return table


def bin_rows(bins: torch.Tensor, edges: Sequence[float] = TIOU_BINS
             ) -> List[dict]:
    """Counts and means of :func:`binned_sums` totals, one dict a bin."""
    rows = []
    for i, (n, oic, pc) in enumerate(bins.tolist()):
        rows.append(dict(tiou=f'{edges[i]:.1f}-{edges[i + 1]:.1f}',
                         rows=int(n), mean_oic=oic / n if n else None,
                         mean_p_comp=pc / n if n else None))
    return rows


def print_bins(bins) -> None:
    """One tIoU-binned table; a list of them (one a :data:`FITS` kind) is
    printed as one table with a fit column."""
    from terminaltables import AsciiTable
    split = isinstance(bins, (list, tuple))
    head = ['true tIoU'] + (['fit'] if split else []) + [
        'stage-2 rows', 'mean OIC', 'mean p_comp']
    rows = [head]
    parts = [(name, bin_rows(b)) for name, b in
             (zip(FITS, bins) if split else [(None, bins)])]
    for i in range(len(TIOU_BINS) - 1):
        for name, b in parts:
            r = b[i]
            rows.append([r['tiou']] + ([name] if split else []) +
                        [str(r['rows'])] + [
                            '' if r[k] is None else f'{r[k]:.3f}'
                            for k in ('mean_oic', 'mean_p_comp')])
    print(AsciiTable(rows).table)


def print_table(table: Dict[str, Dict[str, float]]) -> None:
    from terminaltables import AsciiTable
    keys: List[str] = []
    for r in table.values():
        keys += [k for k in r if k.startswith('mAP') and k not in keys]
    rows = [['scores'] + keys]
    for name, r in table.items():
        rows.append([name] + [f'{r[k]:.2f}' if k in r else '' for k in keys])
    print(AsciiTable(rows).table)


if __name__ == '__main__':
    main()
