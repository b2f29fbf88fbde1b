"""Which errors cost mAP: false-positive breakdown, false negatives by action
length and by instances per video, and the mAP gain of removing each error
type (Alwassel et al., "Diagnosing Error in Temporal Action Detectors",
ECCV 2018; the definitions are in the docstring of
hrpro_plugin/evaluation/functional/error_analysis.py).

    python tools/analyze_errors.py --gt data/synthetic/gt_full.json \\
        --pred work_dirs/x/results.json \\
        --split data/synthetic/split_test.txt \\
        [--tiou 0.5] [--top-multiple 1] [--out-dir DIR]

Prints the tables and writes ``error_analysis.png`` (the figure) and
``error_analysis.json`` (every number, fractions) to ``--out-dir``, default
``error_analysis/`` next to the predictions. The evaluated set is the split
minus ``--blocked``; ``--ambiguous`` drops predictions as tools/eval_map.py
does, so the base mAP here is eval_map's mAP at the same tIoU.
"""
import argparse
import json
import os
import os.path as osp
import sys

try:
    import hrpro_plugin  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from hrpro_plugin.evaluation.functional import (  # noqa: E402
    filter_ambiguous, load_ambiguous, load_ground_truth, load_results)
from hrpro_plugin.evaluation.functional.error_analysis import (  # noqa: E402
    CATEGORIES, CATEGORY_NAMES, COUNT_BINS, LENGTH_BINS, analyze_errors)


def _edges(text):
    try:
        values = [float(x) for x in text.split(',') if x.strip()]
    except ValueError:
        values = None
    if not values or any(b <= a for a, b in zip(values, values[1:])) or \
            values[0] <= 0:
        raise argparse.ArgumentTypeError(
            f'{text!r}: expected increasing positive bin edges, e.g. 2,4,8')
    return values


def _unit_interval(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f'{text!r}: expected a tIoU in '
                                         '(0, 1]')
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='False-positive / false-negative analysis of a results '
        'file (Alwassel et al., ECCV 2018)')
    parser.add_argument('--gt', required=True, help='gt_full.json')
    parser.add_argument('--pred', required=True, help='results JSON')
    parser.add_argument('--split', required=True,
                        help='split file: the evaluated videos, one a line')
    parser.add_argument('--tiou', type=_unit_interval, default=0.5,
                        help='tIoU of a true positive (default 0.5)')
    parser.add_argument('--low-tiou', type=float, default=0.1,
                        help='below it a prediction misses a segment '
                        'entirely (default 0.1, as the paper)')
    parser.add_argument('--top-multiple', type=int, default=1,
                        help='k of the top-kG predictions a class analysed '
                        'in the breakdown and the false negatives (G: its '
                        'ground-truth segments; default 1)')
    parser.add_argument('--profile-max', type=int, default=10,
                        help='the profile shows top-1G .. top-kG up to this '
                        'k (default 10, as the paper)')
    parser.add_argument('--length-bins', type=_edges,
                        default=list(LENGTH_BINS),
                        help='upper edges in seconds of the action-length '
                        'bins (default 2,4,8,16: XS..XL)')
    parser.add_argument('--count-bins', type=_edges, default=list(COUNT_BINS),
                        help='upper edges of the instances-per-video bins '
                        '(default 1,4,8,16)')
    parser.add_argument('--ambiguous', default=None,
                        help='ambiguous segments, "video start end" lines')
    parser.add_argument('--ambiguous-rule', default='overlap',
                        choices=['overlap', 'reference'],
                        help='as tools/eval_map.py')
    parser.add_argument('--blocked', nargs='*', default=[], metavar='VIDEO',
                        help='videos left out')
    parser.add_argument('--out-dir', default=None,
                        help='folder for error_analysis.png / .json '
                        '(default: error_analysis/ next to --pred)')
    parser.add_argument('--no-figure', action='store_true',
                        help='tables and JSON only (no matplotlib needed)')
    args = parser.parse_args(argv)
    if args.top_multiple < 1 or args.profile_max < 1:
        parser.error('--top-multiple and --profile-max must be >= 1')
    if not 0 <= args.low_tiou < args.tiou:
        parser.error(f'--low-tiou must be in [0, --tiou) = [0, '
                     f'{args.tiou:g})')
    return args


def _pct(x):
    return '-' if x is None else f'{100 * x:.1f}'


def tables(summary):
    """The printed tables (terminaltables), one string."""
    from terminaltables import AsciiTable
    t, k = summary['tiou'], summary['top_multiple']
    out = []
    n = max(summary['analysed'], 1)
    rows = [['prediction', 'count', f'% of top-{k}G']]
    for key in CATEGORIES:
        c = summary['breakdown'][key]
        rows.append([CATEGORY_NAMES[key], str(c), f'{100 * c / n:.1f}'])
    rows.append([f'analysed (top-{k}G)', str(summary['analysed']),
                 '100.0'])
    table = AsciiTable(rows, f'top-{k}G predictions at tIoU {t:g}')
    table.inner_footing_row_border = True
    out.append(table.table)

    mult = summary['profile']['multiples']
    rows = [['% of top-kG'] + [f'{m}G' for m in mult]]
    counts = summary['profile']['counts']
    for j, key in enumerate(CATEGORIES):
        rows.append([CATEGORY_NAMES[key]] + [
            f'{100 * c[j] / max(sum(c), 1):.1f}' for c in counts])
    out.append(AsciiTable(rows, 'false-positive profile').table)

    for key, what in (('fn_length', 'action length'),
                      ('fn_count', 'same-class segments a video')):
        part = summary[key]
        rows = [[what, 'segments', f'missed at top-{k}G (%)']]
        rows += [[b, str(n), _pct(r)] for b, n, r in zip(
            part['bins'], part['total'], part['rate'])]
        out.append(AsciiTable(rows, 'false negatives').table)

    gains = summary.get('gains')
    if gains:
        base = gains['base']
        rows = [['removed', f'mAP@{t:g} (%)', 'gain (points)']]
        rows.append(['nothing', f'{100 * base:.2f}', ''])
        for key in list(CATEGORIES[1:]) + ['all_false_positives']:
            name = CATEGORY_NAMES.get(key, 'all false positives')
            rows.append([name, f'{100 * (base + gains[key]):.2f}',
                         f'+{100 * gains[key]:.2f}'])
        out.append(AsciiTable(rows, 'if an error type were removed').table)
    return '\n'.join(out)


def main(argv=None):
    args = parse_args(argv)
    try:
        gt, classes = load_ground_truth(args.gt, args.split)
        preds = load_results(args.pred, classes)
        ambiguous = load_ambiguous(args.ambiguous) if args.ambiguous \
            else None
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'error: {err}')
    blocked = set(args.blocked)
    gt = {v: g for v, g in gt.items() if v not in blocked}
    ignored = [v for v in preds if v not in gt]
    preds = {v: p for v, p in preds.items() if v in gt}
    if ignored:
        print(f'ignored predictions of {len(ignored)} videos outside the '
              'evaluated set', file=sys.stderr)
    if ambiguous is not None:
        preds = filter_ambiguous(preds, ambiguous, args.ambiguous_rule)

    summary = analyze_errors(
        gt, preds, classes, tiou=args.tiou, low_tiou=args.low_tiou,
        top_multiple=args.top_multiple,
        profile_multiples=range(1, args.profile_max + 1),
        length_bins=args.length_bins, count_bins=args.count_bins)
    num_pred = sum(len(p[2]) for p in preds.values())
    print(f'{len(gt)} videos, {summary["num_gt"]} ground-truth segments, '
          f'{num_pred} predictions; tIoU {args.tiou:g}, top-'
          f'{args.top_multiple}G a class')
    print(tables(summary))

    out_dir = args.out_dir or osp.join(
        osp.dirname(osp.abspath(args.pred)), 'error_analysis')
    inputs = {osp.abspath(p) for p in (args.gt, args.pred, args.split,
                                       args.ambiguous) if p}
    os.makedirs(out_dir, exist_ok=True)
    json_file = osp.join(out_dir, 'error_analysis.json')
    png_file = osp.join(out_dir, 'error_analysis.png')
    clash = [f for f in (json_file, png_file) if osp.abspath(f) in inputs]
    if clash:
        sys.exit(f'error: {clash[0]} is an input file; choose another '
                 '--out-dir')
    summary = dict(summary, classes=list(classes), gt=args.gt,
                   pred=args.pred, split=args.split)
    with open(json_file, 'w', encoding='utf-8') as f:
        json.dump(summary, f, indent=1)
    print(f'numbers written to {osp.abspath(json_file)}')
    if not args.no_figure:
        from hrpro_plugin.visualization import (plot_error_analysis,
                                                require_matplotlib)
        try:
            require_matplotlib()
        except ImportError as err:
            sys.exit(f'error: {err} (or pass --no-figure)')
        size = plot_error_analysis(summary, png_file,
                                   category_names=CATEGORY_NAMES)
        print(f'figure written to {osp.abspath(png_file)} '
              f'({size[0]}x{size[1]} px)')
    return summary


if __name__ == '__main__':
    main()
