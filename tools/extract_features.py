"""Snippet features of raw videos with an MMAction2 recognizer.

    python tools/extract_features.py VIDEOS_DIR --out data/mine/features/train \\
        --recognizer RECOGNIZER_CONFIG --checkpoint RECOGNIZER_CKPT \\
        [--snippet-frames 16 --stride 16 --fps 25 --device cuda]

Each video becomes ``<out>/<video>.npy`` of shape ``[T, D]`` (T = ceil(frames
at --fps / stride)), the layout ``PointTALDataset`` reads; ``<out>/
extraction.json`` records the settings, the recognizer and each video's
frames, fps, duration and T. The dataset's ``snippet_frames`` and
``feature_fps`` must then be ``--stride`` and ``--fps``.

Any recognizer of MMAction2's registry works (3-D: one clip a snippet; 2-D:
the mean over the snippet's frames): its backbone, then global average
pooling. RGB only. Optical flow is out of scope: extract flow features
with a flow model elsewhere, on the same snippets, and either place them
as ``features/<split>/flow/<video>.npy`` next to ``.../rgb/<video>.npy``
(the dataset concatenates rgb, then flow) or concatenate them yourself
along the feature axis.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('videos', help='a video file or a folder of videos')
    p.add_argument('--out', required=True, help='folder for <video>.npy')
    p.add_argument('--recognizer', required=True,
                   help='MMAction2 recognizer config')
    p.add_argument('--checkpoint', help='recognizer weights (leave out only '
                   'to test the pipeline with random weights)')
    p.add_argument('--snippet-frames', type=int, default=16)
    p.add_argument('--stride', type=int, default=16)
    p.add_argument('--fps', type=float, default=None,
                   help='resample every video to this frame rate (default: '
                   "each video's own; THUMOS14 features use 25)")
    p.add_argument('--short-side', type=int, default=256)
    p.add_argument('--crop-size', type=int, default=224)
    p.add_argument('--batch-size', type=int, default=8,
                   help='snippets a forward pass')
    p.add_argument('--modality', default='rgb', choices=['rgb', 'flow'])
    p.add_argument('--device', default='cpu')
    p.add_argument('--overwrite', action='store_true',
                   help='write into a folder that holds an earlier '
                   'extraction')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from hrpro_plugin.apis.feature_extraction import (SETTINGS_FILE,
                                                      ExtractionSettings,
                                                      extract_videos,
                                                      init_extractor,
                                                      list_videos)
    if args.modality != 'rgb':
        sys.exit('error: --modality flow is not supported: optical flow '
                 'needs a flow estimator this project does not ship. Extract '
                 'flow features elsewhere on the same snippets and put them '
                 'in features/<split>/flow/<video>.npy next to rgb/ (see the '
                 'docstring of this tool)')
    if osp.exists(osp.join(args.out, SETTINGS_FILE)) and not args.overwrite:
        sys.exit(f'error: {args.out} holds an earlier extraction '
                 f'({SETTINGS_FILE}); choose another --out or pass '
                 '--overwrite')
    settings = ExtractionSettings(
        snippet_frames=args.snippet_frames, stride=args.stride, fps=args.fps,
        short_side=args.short_side, crop_size=args.crop_size,
        batch_size=args.batch_size)
    try:
        settings.check()
        videos = list_videos(args.videos)
    except (ValueError, FileNotFoundError) as err:
        sys.exit(f'error: {err}')
    extractor = init_extractor(args.recognizer, args.checkpoint, args.device)
    record = dict(recognizer=osp.abspath(args.recognizer),
                  checkpoint=(osp.abspath(args.checkpoint)
                              if args.checkpoint else None),
                  modality='rgb')
    done, failed = extract_videos(extractor, videos, args.out, settings,
                                  record=record)
    for name, info in done.items():
        print(f'{name}: [{info["num_snippets"]}, {info["feat_dim"]}] '
              f'({info["frames"]} frames, {info["duration"]:.2f} s)')
    print(f'{len(done)} of {len(videos)} videos written to '
          f'{osp.abspath(args.out)}')
    if failed:
        for name, err in failed.items():
            print(f'failed: {err}', file=sys.stderr)
        sys.exit(f'error: {len(failed)} video(s) could not be decoded: '
                 f'{", ".join(failed)}')
    return done


if __name__ == '__main__':
    main()
