"""Localize actions in videos from their snippet features (no annotations).

    python tools/infer.py CONFIG CHECKPOINT --features PATH [--out results.json]
    python tools/infer.py CONFIG CHECKPOINT --video FILE_OR_DIR \
        --recognizer RECOGNIZER_CONFIG --recognizer-checkpoint RECOGNIZER_CKPT

``--video`` chains ``tools/extract_features.py`` and detection: the videos'
features are extracted with the recognizer at the localizer's snippet rate
(its config's ``snippet_frames`` and ``feature_fps``) into ``features/``
next to the results, then detected. The recognizer must give the feature
width the localizer was trained on.

PATH is one ``<video>.npy`` file (float ``[T, D]``), a folder of them, or a
folder with ``rgb/`` and ``flow/`` sub-folders (concatenated rgb first). The
class list is the checkpoint's. Writes an ActivityNet-style results JSON
(segments in seconds) and prints the top detections of each video.

Without ``--out`` the file goes to
``work_dirs/infer/<checkpoint folder>_<checkpoint name>/results.json``
(never to the current folder); ``--out`` may not name one of the inputs
(config, checkpoint, a feature file). A bad input ends with one line naming
the file (``HRPRO_DEBUG=1``: the traceback).
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='HR-Pro inference on snippet features')
    parser.add_argument('config', help='config file (best: the one saved in '
                        'the training work dir)')
    parser.add_argument('checkpoint', help='checkpoint (stage1.pth or '
                        'stage2.pth written by tools/train.py)')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--features',
                        help='a .npy file [T, D], a folder of them, or a '
                        'folder with rgb/ and flow/ sub-folders')
    source.add_argument('--video', help='a video file or a folder of videos: '
                        'features are extracted first (needs --recognizer)')
    parser.add_argument('--recognizer', help='--video: MMAction2 recognizer '
                        'config of the feature extractor')
    parser.add_argument('--recognizer-checkpoint', help='--video: its '
                        'weights (leave out only to test the pipeline)')
    parser.add_argument('--short-side', type=int, default=256,
                        help='--video: frames resized to this short side')
    parser.add_argument('--crop-size', type=int, default=224,
                        help='--video: centre crop')
    parser.add_argument('--out', default=None,
                        help='results JSON (ActivityNet format; default '
                        'work_dirs/infer/<checkpoint folder>_<checkpoint '
                        'name>/results.json)')
    parser.add_argument('--snippet-seconds', type=float, default=None,
                        help="seconds a snippet covers (default: the config's "
                        'snippet_frames / feature_fps, e.g. 16 / 25 = 0.64)')
    parser.add_argument('--device', default='cpu',
                        help='cpu, cuda or cuda:N (default cpu)')
    parser.add_argument('--batch-size', type=int, default=8,
                        help='videos a forward pass (default 8)')
    parser.add_argument('--top', type=int, default=3,
                        help='detections printed a video (default 3)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def summarize(result, top: int = 3) -> str:
    """One line a video: number of detections and the best ``top``."""
    n = len(result['scores'])
    parts = [
        f'{name} [{s:.2f}, {e:.2f}] {x:.3f}'
        for name, (s, e), x in zip(result['label_names'][:top],
                                   result['segments'][:top],
                                   result['scores'][:top])
    ]
    head = (f'{result["video"]}: {n} detection{"s" if n != 1 else ""} '
            f'({result["num_snippets"]} snippets, '
            f'{result["duration"]:.1f} s)')
    return head + (': ' + '; '.join(parts) if parts else '')


def default_out(checkpoint: str) -> str:
    """``work_dirs/infer/<folder>_<stem>/results.json`` for the checkpoint
    ``.../<folder>/<stem>.pth`` (relative to the current folder, as
    tools/train.py's work dirs)."""
    path = osp.abspath(checkpoint)
    stem = osp.splitext(osp.basename(path))[0]
    folder = osp.basename(osp.dirname(path))
    name = f'{folder}_{stem}' if folder else stem
    return osp.join('work_dirs', 'infer', name, 'results.json')


def extract_for_inference(args):
    """``--video``: extract the features next to the results; returns their
    folder and the videos that could not be decoded (named, left out)."""
    from mmengine.config import Config
    from hrpro_plugin.apis.inference import config_snippet_rate
    from hrpro_plugin.apis.feature_extraction import (ExtractionSettings,
                                                      extract_videos,
                                                      init_extractor,
                                                      list_videos)
    if not args.recognizer:
        sys.exit('error: --video needs --recognizer CONFIG (and '
                 '--recognizer-checkpoint CKPT) to extract the features')
    frames, fps = config_snippet_rate(Config.fromfile(args.config))
    settings = ExtractionSettings(snippet_frames=frames, stride=frames,
                                  fps=fps, short_side=args.short_side,
                                  crop_size=args.crop_size)
    settings.check()
    videos = list_videos(args.video)
    out_dir = osp.join(osp.dirname(osp.abspath(args.out)), 'features')
    extractor = init_extractor(args.recognizer, args.recognizer_checkpoint,
                               args.device)
    done, failed = extract_videos(
        extractor, videos, out_dir, settings,
        record=dict(recognizer=osp.abspath(args.recognizer),
                    checkpoint=args.recognizer_checkpoint, modality='rgb'),
        progress=len(videos) > 1)
    for name, err in failed.items():
        print(f'skipped: {err}', file=sys.stderr)
    if not done:
        sys.exit(f'error: none of the {len(videos)} video(s) could be '
                 'decoded')
    print(f'features of {len(done)} video(s) ({frames} frames a snippet at '
          f'{fps:g} fps) written to {out_dir}')
    return out_dir, list(failed)


def main(argv=None):
    args = parse_args(argv)
    if args.out is None:
        args.out = default_out(args.checkpoint)
    failed_videos = []
    if args.device.startswith('cuda'):
        import torch
        if not torch.cuda.is_available():
            sys.exit(f'--device {args.device}: CUDA is not available')
    from hrpro_plugin.apis import (collect_feature_files, inference_localizer,
                                   init_localizer)
    from hrpro_plugin.evaluation.functional.results_io import (
        refuse_overwriting_inputs, write_results)

    try:
        if args.video is not None:
            args.features, failed_videos = extract_for_inference(args)
        videos = collect_feature_files(args.features)
        refuse_overwriting_inputs(
            args.out, [args.config, args.checkpoint] +
            [p for _, paths in videos for p in paths], flag='--out')
        model = init_localizer(args.config, args.checkpoint, args.device,
                               cfg_options=args.cfg_options)
        results = inference_localizer(
            model, [(name, paths) for name, paths in videos],
            snippet_seconds=args.snippet_seconds,
            batch_size=args.batch_size,
            progress=len(videos) > 1)
    except (FileNotFoundError, ValueError, RuntimeError) as err:
        if os.environ.get('HRPRO_DEBUG'):
            raise
        sys.exit(f'error: {err}')
    classes = model.dataset_meta['classes']
    write_results(
        args.out, {
            r['video']: (r['segments'], r['labels'], r['scores'])
            for r in results
        }, classes)
    for r in results:
        print(summarize(r, args.top))
    print(f'{len(results)} video(s); results written to '
          f'{osp.abspath(args.out)}')
    if failed_videos:
        sys.exit(f'error: {len(failed_videos)} video(s) could not be '
                 f'decoded: {", ".join(failed_videos)}')
    return results


if __name__ == '__main__':
    from hrpro_plugin.apis.cli import run_cli
    run_cli(main)
