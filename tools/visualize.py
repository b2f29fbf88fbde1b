"""Plot videos of a dataset: one PNG a video.

Model mode (ground truth, points, top-k predictions, fused CAS, attention)::

    python tools/visualize.py CONFIG CHECKPOINT --data-root DIR \\
        [--videos NAME ... | --all | --max-videos N] [--out-dir DIR] \\
        [--split test|train] [--top-k 10] \\
        [--show-train-mining [--proposal-file FILE]]

Results mode (any ActivityNet-style results JSON against the ground truth,
no model; two or more files are drawn side by side, one track a file under
each class's ground truth)::

    python tools/visualize.py --results A.json [--results B.json] \\
        --data-root DIR | --gt gt_full.json --split-file split_test.txt \\
        [--names A B] [--videos ... | --all | --max-videos N] [--out-dir DIR]

Without ``--videos`` the first ``--max-videos`` (default 5) videos of the
split are drawn; ``--all`` draws every one. The default output folder is
``vis/`` next to the checkpoint (model mode) or the first results file.
Overlapping predictions of a class are spread over lanes, so every box and
its score label stays readable. With ``--show-train-mining`` (training
videos) the figure adds the pseudo action / background snippets mined from
the model's attention and the points, and the RP / PP / NP of the video from
the mining file of the run (``mined_proposals.pt`` beside the checkpoint by
default).
"""
import argparse
import copy
import json
import os
import os.path as osp
import sys
from collections import OrderedDict

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

DEFAULT_MAX_VIDEOS = 5


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Plot ground truth and predictions (with a model: also '
        'CAS and attention; with --results: any results JSON)')
    parser.add_argument('config', nargs='?', help='config file (best: the '
                        'one saved in the training work dir); model mode')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint written by '
                        'tools/train.py; model mode')
    parser.add_argument('--results', action='append', default=[],
                        metavar='FILE', help='results JSON (ActivityNet '
                        'format) to plot without a model; give it twice to '
                        'compare two files side by side')
    parser.add_argument('--names', nargs='+', default=None,
                        help='track names of the --results files (default: '
                        'from the file paths)')
    parser.add_argument('--gt', default=None, help='gt_full.json (results '
                        'mode; default DATA_ROOT/gt_full.json)')
    parser.add_argument('--split-file', default=None, help='split file '
                        '(results mode; default DATA_ROOT/split_<split>.txt)')
    parser.add_argument('--data-root', help="dataset root (default: the "
                        "config's data_root)")
    sel = parser.add_mutually_exclusive_group()
    sel.add_argument('--videos', nargs='+', default=None,
                     help='video names of the split (default: the first '
                     '--max-videos)')
    sel.add_argument('--all', action='store_true',
                     help='every video of the split')
    parser.add_argument('--max-videos', type=int, default=DEFAULT_MAX_VIDEOS,
                        help='videos drawn without --videos / --all '
                        f'(default {DEFAULT_MAX_VIDEOS})')
    parser.add_argument('--out-dir', default=None,
                        help='folder for the PNG files (<video>.png); '
                        'default: vis/ next to the checkpoint or the first '
                        'results file')
    parser.add_argument('--split', choices=['test', 'train'], default='test',
                        help="which of the config's datasets holds the "
                        'videos (default test)')
    parser.add_argument('--top-k', type=int, default=10,
                        help='predictions drawn a video (by score), per '
                        'results file')
    parser.add_argument('--score-note', default=None,
                        help='the line under the legend saying what a score '
                        'is (default: HR-Pro\'s definition for HR-Pro '
                        'models and results files, else a generic line)')
    parser.add_argument('--show-train-mining', action='store_true',
                        help='also draw pseudo action / background snippets '
                        'and the mined RP / PP / NP (model mode)')
    parser.add_argument('--proposal-file', default=None,
                        help='mining file (default: mined_proposals.pt next '
                        'to the checkpoint)')
    parser.add_argument('--device', default='cpu', help='cpu or cuda')
    parser.add_argument('--width', type=float, default=12.0,
                        help='figure width in inches (at 100 dpi)')
    parser.add_argument('--dpi', type=int, default=100)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    if args.results and (args.config or args.checkpoint):
        parser.error('give either CONFIG CHECKPOINT (model mode) or '
                     '--results (results mode), not both')
    if not args.results and not (args.config and args.checkpoint):
        parser.error('model mode needs CONFIG and CHECKPOINT; to plot a '
                     'results JSON without a model use --results FILE')
    if args.names and len(args.names) != len(args.results):
        parser.error(f'--names gives {len(args.names)} names for '
                     f'{len(args.results)} --results file(s)')
    if args.max_videos < 1:
        parser.error('--max-videos must be >= 1')
    return args


def select_videos(names, args, what):
    """The videos to draw, in split order for the default selection."""
    if args.videos:
        known = set(names)
        missing = [v for v in args.videos if v not in known]
        if missing:
            sys.exit(f'error: video(s) {", ".join(missing)} not in the '
                     f'{what} ({len(names)} videos, e.g. '
                     f'{", ".join(names[:5])})')
        return list(args.videos)
    if args.all or len(names) <= args.max_videos:
        return list(names)
    print(f'plotting the first {args.max_videos} of {len(names)} videos '
          '(--all for every one, --videos to choose)')
    return list(names[:args.max_videos])


def build_dataset(cfg, split: str, classes):
    """The config's train or test dataset with the checkpoint's classes."""
    from mmaction.registry import DATASETS
    loader = cfg.get('train_dataloader' if split == 'train' else
                     'test_dataloader')
    if not loader:
        raise ValueError(f'the config has no {split} dataloader')
    ds_cfg = copy.deepcopy(loader['dataset'])
    meta = dict(ds_cfg.get('metainfo') or {})
    meta['classes'] = list(classes)
    ds_cfg['metainfo'] = meta
    return DATASETS.build(ds_cfg)


def _track_names(paths):
    """Short distinct names for results files: the file stem, with the
    folder(s) above it where stems repeat."""
    parts = [osp.normpath(osp.abspath(p)).split(os.sep) for p in paths]
    for depth in range(1, max(len(p) for p in parts) + 1):
        names = ['/'.join(p[-depth:]) for p in parts]
        names = [n[:-5] if n.endswith('.json') else n for n in names]
        if len(set(names)) == len(names):
            return names
    return [f'{i}:{n}' for i, n in enumerate(names)]


def _results_version(path):
    try:
        with open(path, encoding='utf-8') as f:
            return str(json.load(f).get('version', ''))
    except (OSError, ValueError, AttributeError):
        return ''


def plot_results(args):
    """Results mode: each results file against the ground truth."""
    from hrpro_plugin.evaluation.functional import (load_ground_truth,
                                                    load_results)
    from hrpro_plugin.visualization import (GENERIC_SCORE_NOTE,
                                            HRPRO_SCORE_NOTE, plot_video)
    if not args.gt and not args.data_root:
        sys.exit('error: results mode needs --gt (and --split-file) or '
                 '--data-root')
    gt_file = args.gt or osp.join(args.data_root, 'gt_full.json')
    split_file = args.split_file or (
        osp.join(args.data_root, f'split_{args.split}.txt')
        if args.data_root else None)
    if not split_file:
        sys.exit('error: --gt needs --split-file (or give --data-root)')
    names = args.names or _track_names(args.results)
    try:
        gt, classes = load_ground_truth(gt_file, split_file)
        sets = OrderedDict((n, load_results(p, classes))
                           for n, p in zip(names, args.results))
        with open(gt_file, encoding='utf-8') as f:
            database = json.load(f)['database']
    except (FileNotFoundError, ValueError, KeyError) as err:
        sys.exit(f'error: {err}')
    note = args.score_note
    if note is None:
        hrpro = all(_results_version(p).startswith('HR-Pro')
                    for p in args.results)
        note = HRPRO_SCORE_NOTE if hrpro else GENERIC_SCORE_NOTE
    for name, preds in sets.items():
        outside = [v for v in preds if v not in gt]
        if outside:
            print(f'{name}: {len(outside)} video(s) outside the split '
                  'ignored')
    videos = select_videos(list(gt), args, f'split {split_file}')
    out_dir = args.out_dir or osp.join(
        osp.dirname(osp.abspath(args.results[0])), 'vis')
    os.makedirs(out_dir, exist_ok=True)
    empty = ([], [], [])
    written = []
    for video in videos:
        segs, labels = gt[video]
        duration = database.get(video, {}).get('duration')
        try:
            duration = float(duration) if duration else None
        except (TypeError, ValueError):
            duration = None
        preds = OrderedDict((n, p.get(video, empty)) for n, p in sets.items())
        out_file = osp.join(out_dir, f'{video}.png')
        size = plot_video(video, segs, labels,
                          preds if len(preds) > 1 else preds[names[0]],
                          classes, out_file, duration=duration,
                          top_k=args.top_k, score_note=note,
                          width=args.width, dpi=args.dpi)
        written.append(out_file)
        print(f'{video}: {osp.abspath(out_file)} ({size[0]}x{size[1]} px)')
    return written


def load_model_and_dataset(args):
    """The checkpoint's model and the ``--split`` dataset with its classes
    (a clear one-line error otherwise)."""
    from mmengine.config import Config

    from hrpro_plugin.apis import apply_data_root, init_localizer
    try:
        cfg = Config.fromfile(args.config)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        apply_data_root(cfg, args.data_root)
        model = init_localizer(cfg, args.checkpoint, args.device)
        classes = model.dataset_meta['classes']
        dataset = build_dataset(cfg, args.split, classes)
    except (FileNotFoundError, ValueError, RuntimeError) as err:
        sys.exit(f'error: {err}')
    return model, classes, dataset


def load_mining_file(args):
    """The run's mining file for ``--show-train-mining`` (``None`` when
    not asked for, or when the default file is absent)."""
    from hrpro_plugin.fileio import ProposalFileError, load_proposals
    if not args.show_train_mining:
        return None
    prop_file = args.proposal_file or osp.join(
        osp.dirname(osp.abspath(args.checkpoint)), 'mined_proposals.pt')
    if osp.isfile(prop_file):
        try:
            return load_proposals(prop_file)
        except ProposalFileError as err:
            sys.exit(f'error: {err}')
    if args.proposal_file:
        sys.exit(f'error: proposal file {prop_file} not found')
    print(f'no mining file {prop_file}: RP / PP / NP not drawn')
    return None


def run_model(model, sample, mining: bool):
    """One network pass over one video (``sample``, as the dataset gives
    it): its ``pred_instances`` (what ``tools/test.py`` predicts) and its
    stage-1 outputs (``SnippetPass.video``: ``fused_cas``, ``attn``, ...
    and, with ``mining``, the pseudo snippets ``act_labels`` /
    ``bg_seeds``), on the CPU."""
    import torch
    from mmengine.dataset import pseudo_collate
    with torch.no_grad():
        data = model.data_preprocessor(
            pseudo_collate([copy.deepcopy(sample)]), False)
        inputs, samples = data['inputs'], data['data_samples']
        sp = model.snippet_pass(inputs, samples, pseudo=mining,
                                candidates=True)
        pred = model.predict_from_pass(sp, inputs, samples)[0].pred_instances
    return pred.cpu(), {k: v.cpu() for k, v in sp.video(0).items()}


def mining_rows(video, ds, stage1, proposals):
    """The ``--show-train-mining`` rows of one video: pseudo action /
    background snippets and its RP / PP / NP (seconds) from the file."""
    import torch

    from hrpro_plugin.fileio import proposals_for_video
    sec = float(ds.metainfo['snippet_seconds'])
    extra = {}
    if len(ds.gt_points.snippets) == 0:
        print(f'{video}: no point labels, no pseudo snippets to mine')
    else:
        extra.update(pseudo_action=stage1['act_labels'],
                     pseudo_background=stage1['bg_seeds'])
    if proposals is None:
        return extra
    try:
        one = proposals_for_video(proposals, video)
    except KeyError:
        print(f'{video}: not in the mining file (mining covers the training '
              'videos only)')
        return extra

    def seconds(s):
        return torch.stack([one[s]['start'], one[s]['end']], -1) * sec

    extra['proposals'] = {'RP': (seconds('rp'), one['rp']['label']),
                          'PP': (seconds('pp'), one['pp']['label']),
                          'NP': (seconds('np'), None)}
    return extra


def plot_model(args):
    """Model mode: run the checkpoint on the dataset's videos, once a
    video: the predictions and the curves come from that one pass."""
    from hrpro_plugin.visualization import require_matplotlib
    try:
        require_matplotlib()
    except ImportError as err:
        sys.exit(f'error: {err}')
    from hrpro_plugin.visualization import plot_localization

    model, classes, dataset = load_model_and_dataset(args)
    names = [dataset.get_data_info(i)['video_name']
             for i in range(len(dataset))]
    index = {n: i for i, n in enumerate(names)}
    videos = select_videos(names, args, f'{args.split} set')
    proposals = load_mining_file(args)
    out_dir = args.out_dir or osp.join(
        osp.dirname(osp.abspath(args.checkpoint)), 'vis')
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for video in videos:
        sample = dataset[index[video]]
        ds = sample['data_samples']
        sec = float(ds.metainfo['snippet_seconds'])
        T = int(ds.metainfo['num_snippets'])
        pred, stage1 = run_model(model, sample, args.show_train_mining)
        extra = (mining_rows(video, ds, stage1, proposals)
                 if args.show_train_mining else {})
        pts = ds.gt_points
        # a test set has no point labels: say nothing about points there
        points = (pts.snippets.double() + 0.5) * sec
        if len(pts.snippets) == 0 and args.split == 'test':
            points = None
        if args.score_note is not None:
            extra['score_note'] = args.score_note
        out_file = osp.join(out_dir, f'{video}.png')
        size = plot_localization(
            out_file, video=video, classes=classes, snippet_seconds=sec,
            duration=float(ds.metainfo.get('duration', T * sec)),
            gt_segments=ds.gt_instances.segments,
            gt_labels=ds.gt_instances.labels, points=points,
            point_labels=pts.labels, pred_segments=pred.segments,
            pred_labels=pred.labels, pred_scores=pred.scores,
            top_k=args.top_k, fused_cas=stage1['fused_cas'],
            attn=stage1['attn'], width=args.width, dpi=args.dpi, **extra)
        written.append(out_file)
        print(f'{video}: {osp.abspath(out_file)} ({size[0]}x{size[1]} px)')
    return written


def main(argv=None):
    args = parse_args(argv)
    return plot_results(args) if args.results else plot_model(args)


if __name__ == '__main__':
    # a DataError (a bad feature file of a plotted video, ...) as one line
    from hrpro_plugin.apis.cli import run_cli
    run_cli(main)
