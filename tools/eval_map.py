"""Score an ActivityNet-format results file: detection mAP at tIoU thresholds.

Uses the same functions as ``TALmAPMetric`` (hrpro_plugin.evaluation), so
a results file written by the metric's ``out_file`` scores identically here
with the same ambiguous file and blocked videos.

Example (THUMOS14)::

    python tools/eval_map.py --gt data/thumos14/gt_full.json \
        --pred work_dirs/x/results.json --split data/thumos14/split_test.txt \
        --ambiguous data/thumos14/Ambiguous_test.txt \
        --blocked video_test_0000270 video_test_0001292 video_test_0001496

Prints the mAP table (percent), optionally the per-class table, and, as the
last line of stdout, a JSON object with fractions (not percent)::

    {"tiou": [0.1, ...], "map": [0.61, ...], "avg": 0.45}

``avg`` is the mean over all evaluated thresholds. The evaluated set is the
split minus the blocked videos; predictions for other videos are ignored.

``gt_full.json`` and the split file are read by the dataset's parser
(``hrpro_plugin.datasets.parsers``): a file the dataset refuses (a
reversed or zero-length segment, one past the video's end, a video listed
twice in the split, ...) is refused here too, with the same one-line
message (the traceback only with ``HRPRO_DEBUG=1``).
"""
import argparse
import json
import os.path as osp
import sys

try:
    import hrpro_plugin  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from hrpro_plugin.evaluation.functional import (  # noqa: E402
    filter_ambiguous, load_ambiguous, load_ground_truth, load_results,
    mean_average_precision, summarize_map)
from hrpro_plugin.evaluation.metrics.tal_map_metric import (  # noqa: E402
    map_table, per_class_table)


def parse_tiou(text: str):
    """``start:end:step`` (end inclusive), a comma list, or one value."""
    try:
        if ':' in text:
            start, end, step = (float(x) for x in text.split(':'))
            if step <= 0 or end < start:
                raise ValueError
            n = int(round((end - start) / step)) + 1
            values = [round(start + i * step, 10) for i in range(n)]
        else:
            values = [float(x) for x in text.split(',') if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'--tiou {text!r}: expected start:end:step (end inclusive), '
            f'e.g. 0.1:0.7:0.1, or a comma-separated list') from None
    if not values or any(not 0 < t <= 1 for t in values):
        raise argparse.ArgumentTypeError(
            f'--tiou {text!r}: thresholds must be in (0, 1]')
    return values


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Detection mAP of an ActivityNet-format results file')
    parser.add_argument('--gt', required=True, help='gt_full.json')
    parser.add_argument('--pred', required=True, help='results JSON')
    parser.add_argument('--split',
                        required=True,
                        help='split file: the evaluated videos, one a line')
    parser.add_argument('--ambiguous',
                        default=None,
                        help='ambiguous segments, "video start end" lines')
    parser.add_argument('--ambiguous-rule', default='overlap',
                        choices=['overlap', 'reference'],
                        help="'overlap': drop predictions with a positive "
                        "intersection (default); 'reference': the reference "
                        'evaluator\'s whole-second test')
    parser.add_argument('--tiou',
                        type=parse_tiou,
                        default='0.1:0.7:0.1',
                        help='start:end:step, end inclusive '
                        '(default 0.1:0.7:0.1), or a comma list')
    parser.add_argument('--per-class',
                        action='store_true',
                        help='also print per-class AP')
    parser.add_argument('--blocked',
                        nargs='*',
                        default=[],
                        metavar='VIDEO',
                        help='videos left out')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    tiou = args.tiou
    gt, classes = load_ground_truth(args.gt, args.split)
    blocked = set(args.blocked)
    gt = {v: g for v, g in gt.items() if v not in blocked}
    preds = load_results(args.pred, classes)
    ignored = [v for v in preds if v not in gt]
    preds = {v: p for v, p in preds.items() if v in gt}
    if ignored:
        print(
            f'ignored predictions of {len(ignored)} videos outside the '
            f'evaluated set',
            file=sys.stderr)
    if args.ambiguous:
        preds = filter_ambiguous(preds, load_ambiguous(args.ambiguous),
                                 args.ambiguous_rule)
    mean_ap, ap, valid = mean_average_precision(gt, preds, classes, tiou)
    print(f'{len(gt)} videos, {int(valid.sum())} classes with ground truth')
    print(map_table(tiou, mean_ap))
    if args.per_class:
        print(per_class_table(classes, tiou, ap, valid))
    avg = summarize_map(tiou, mean_ap)['all']
    print(
        json.dumps(
            dict(tiou=[float(t) for t in tiou],
                 map=[float(m) for m in mean_ap],
                 avg=float(avg))))


if __name__ == '__main__':
    from hrpro_plugin.apis.cli import run_cli
    run_cli(main)
