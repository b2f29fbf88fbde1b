"""Plot HR-Pro's view of some videos of a dataset: one PNG a video.

    python tools/visualize.py CONFIG CHECKPOINT --data-root DIR \\
        --videos NAME [NAME ...] --out-dir DIR [--split test|train] \\
        [--top-k 10] [--show-train-mining [--proposal-file FILE]]

Each figure shows the ground-truth segments and points, the top-k predicted
segments, the fused CAS of the relevant classes (ground-truth and predicted
classes) and the class-agnostic attention, over time in seconds. With
``--show-train-mining`` (for training videos) it adds the pseudo action /
background snippets mined from the model's attention and the points, and
the RP / PP / NP of the video from the mining file of the run
(``mined_proposals.pt`` beside the checkpoint by default).
"""
import argparse
import copy
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config, DictAction  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Plot ground truth, predictions, CAS and attention')
    parser.add_argument('config', help='config file (best: the one saved in '
                        'the training work dir)')
    parser.add_argument('checkpoint', help='checkpoint written by '
                        'tools/train.py')
    parser.add_argument('--data-root', help="dataset root (default: the "
                        "config's data_root)")
    parser.add_argument('--videos', nargs='+', required=True,
                        help='video names of the split')
    parser.add_argument('--out-dir', required=True,
                        help='folder for the PNG files (<video>.png)')
    parser.add_argument('--split', choices=['test', 'train'], default='test',
                        help="which of the config's datasets holds the "
                        'videos (default test)')
    parser.add_argument('--top-k', type=int, default=10,
                        help='predictions drawn a video (by score)')
    parser.add_argument('--show-train-mining', action='store_true',
                        help='also draw pseudo action / background snippets '
                        'and the mined RP / PP / NP')
    parser.add_argument('--proposal-file', default=None,
                        help='mining file (default: mined_proposals.pt next '
                        'to the checkpoint)')
    parser.add_argument('--device', default='cpu', help='cpu or cuda')
    parser.add_argument('--width', type=float, default=12.0,
                        help='figure width in inches (at 100 dpi)')
    parser.add_argument('--dpi', type=int, default=100)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


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


def main(argv=None):
    args = parse_args(argv)
    from hrpro_plugin.visualization import require_matplotlib
    try:
        require_matplotlib()
    except ImportError as err:
        sys.exit(f'error: {err}')

    import torch
    from mmengine.dataset import pseudo_collate

    from hrpro_plugin.apis import (apply_data_root, init_localizer,
                                   localizer_outputs)
    from hrpro_plugin.models.proposals.proposal_file import (
        ProposalFileError, load_proposals, proposals_for_video)
    from hrpro_plugin.models.proposals.pseudo_snippets import \
        mine_pseudo_snippets
    from hrpro_plugin.models.utils import batch_point_labels
    from hrpro_plugin.visualization import plot_localization

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

    names = [dataset.get_data_info(i)['video_name']
             for i in range(len(dataset))]
    index = {n: i for i, n in enumerate(names)}
    missing = [v for v in args.videos if v not in index]
    if missing:
        sys.exit(f'error: video(s) {", ".join(missing)} not in the {args.split}'
                 f' set ({len(names)} videos, e.g. {", ".join(names[:5])})')

    proposals = None
    if args.show_train_mining:
        prop_file = args.proposal_file or osp.join(
            osp.dirname(osp.abspath(args.checkpoint)), 'mined_proposals.pt')
        if osp.isfile(prop_file):
            try:
                proposals = load_proposals(prop_file)
            except ProposalFileError as err:
                sys.exit(f'error: {err}')
        elif args.proposal_file:
            sys.exit(f'error: proposal file {prop_file} not found')
        else:
            print(f'no mining file {prop_file}: RP / PP / NP not drawn')

    os.makedirs(args.out_dir, exist_ok=True)
    written = []
    for video in args.videos:
        sample = dataset[index[video]]
        ds = sample['data_samples']
        feats = sample['inputs']
        sec = float(ds.metainfo['snippet_seconds'])
        T = int(ds.metainfo['num_snippets'])
        with torch.no_grad():
            pred = model.test_step(pseudo_collate([copy.deepcopy(sample)
                                                   ]))[0].pred_instances
        out = localizer_outputs(model, feats)
        pts = ds.gt_points
        extra = {}
        if args.show_train_mining:
            if len(pts.snippets) == 0:
                print(f'{video}: no point labels, no pseudo snippets to mine')
            else:
                point_labels = batch_point_labels([ds], T, len(classes))
                act, bg = mine_pseudo_snippets(
                    point_labels, torch.from_numpy(out['bg'])[None],
                    torch.ones(1, T, dtype=torch.bool), **model.pseudo_cfg)
                extra.update(pseudo_action=act[0].numpy(),
                             pseudo_background=bg[0].numpy())
            if proposals is not None:
                try:
                    one = proposals_for_video(proposals, video)
                except KeyError:
                    print(f'{video}: not in the mining file (mining covers '
                          'the training videos only)')
                else:
                    extra['proposals'] = {
                        'RP': (torch.stack([one['rp']['start'],
                                            one['rp']['end']], -1) * sec,
                               one['rp']['label']),
                        'PP': (torch.stack([one['pp']['start'],
                                            one['pp']['end']], -1) * sec,
                               one['pp']['label']),
                        'NP': (torch.stack([one['np']['start'],
                                            one['np']['end']], -1) * sec,
                               None),
                    }
        out_file = osp.join(args.out_dir, f'{video}.png')
        size = plot_localization(
            out_file,
            video=video,
            classes=classes,
            snippet_seconds=sec,
            duration=float(ds.metainfo.get('duration', T * sec)),
            gt_segments=ds.gt_instances.segments,
            gt_labels=ds.gt_instances.labels,
            points=(pts.snippets.double() + 0.5) * sec,
            point_labels=pts.labels,
            pred_segments=pred.segments,
            pred_labels=pred.labels,
            pred_scores=pred.scores,
            top_k=args.top_k,
            fused_cas=out['fused_cas'],
            attn=out['attn'],
            width=args.width,
            dpi=args.dpi,
            **extra)
        written.append(out_file)
        print(f'{video}: {osp.abspath(out_file)} ({size[0]}x{size[1]} px)')
    return written


if __name__ == '__main__':
    main()
