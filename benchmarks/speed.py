"""Speed benchmark: the full HR-Pro schedule on THUMOS14-scale data.

    python benchmarks/speed.py [--device cpu|cuda] [--quick] [--feat-dim D]
        [--work-dir DIR] [--data-root DIR] [--profile] [--amp]

1. Data (``speed_lib/data.py``). ``--data-root`` (default
   ``data/synthetic_speed_<D>d``) is used as it is when it already holds a
   dataset (``gt_full.json`` + features), e.g. real THUMOS14 I3D features.
   Otherwise synthetic features are generated there, with the real THUMOS14
   video lengths, segments and splits of the shipped
   ``data/thumos14/gt_full.json``. A stamp file makes a second run reuse the
   data.
2. Training (``speed_lib/schedule.py``): ``configs/hrpro_thumos14.py``
   resolved like ``tools/train.py`` (feat_dim / num_classes from the data,
   seed 0), MMEngine's Runner in-process: 1,000 stage-1 iterations of 16
   videos, mining, 20 stage-2 epochs of 10 videos. ``--quick`` runs a short
   schedule and extrapolates the full-schedule time from the measured
   per-iteration rates (a separate, labelled column). ``--amp`` sets
   ``model.bf16``, as ``tools/train.py --amp`` does: the networks run under
   bf16 autocast on CUDA (training and test); the model ignores it on the
   CPU.
3. Test: ``runner.test()`` of the trained runner on the test split (mAP).
4. Proposal generation and soft-NMS (``speed_lib/proposal_bench.py``): our
   batched torch code (``candidates.generate_candidates``,
   ``soft_nms.batched_soft_nms``) against the per-proposal NumPy/Python
   references of ``benchmarks/_naive.py``, on the inputs the trained model
   produced on the test videos (recorded by forward hooks on the snippet
   head and the post-processor, ``speed_lib/recorder.py``); both outputs
   are checked to agree (same count, 1e-5). If they do not, the run exits
   non-zero (after writing ``speed.json``).

Phases are timed by two hooks registered on the runner
(``speed_lib/timeline.py``: ``PhaseTimerFirst`` at priority HIGHEST,
``PhaseTimerLast`` at LOWEST): stage 1 runs from ``before_train``
(prototype initialisation included) to ``before_stage2``; mining is
``ProposalMiningHook.before_stage2``; stage 2 runs to ``after_train``. On
CUDA every mark synchronises the device. The table
(``speed_lib/report.py``) is printed and written to
``<work-dir>/speed.json``. Every mAP of a generated dataset is a
synthetic-feature result, not a THUMOS14 one.
"""
import argparse
import json
import os
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
BENCH_DIR = osp.dirname(osp.abspath(__file__))
if BENCH_DIR not in sys.path:
    sys.path.insert(0, BENCH_DIR)      # speed_lib/, _naive.py

# --quick: (stage-1 iterations, stage-2 epochs) per device, chosen so that
# the run (data generation excluded) stays within about 5 min on one GPU at
# 2048-d and 10 min on 2 CPU cores at 256-d; mining and the test pass are
# always complete (their cost does not shrink with the schedule).
QUICK_SCHEDULE = dict(cuda=(100, 2), cpu=(20, 1))


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='HR-Pro speed benchmark (THUMOS14 scale)',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', choices=['cpu', 'cuda'], default=None,
                   help='default: cuda when available, else cpu')
    p.add_argument('--quick', action='store_true',
                   help='short schedule (cuda: %d stage-1 iterations, %d '
                   'stage-2 epochs; cpu: %d and %d); the full-schedule time '
                   'is extrapolated' % (QUICK_SCHEDULE['cuda'] +
                                        QUICK_SCHEDULE['cpu']))
    p.add_argument('--feat-dim', type=int, default=None,
                   help='feature width of generated data (default 2048 on '
                   'cuda, 256 on cpu)')
    p.add_argument('--work-dir', default=None,
                   help='default work_dirs/speed_<device>[_quick]')
    p.add_argument('--data-root', default=None,
                   help='dataset root (used as is when it holds a dataset; '
                   'else synthetic data is generated there); default '
                   'data/synthetic_speed_<D>d')
    p.add_argument('--stage1-iters', type=int, default=None,
                   help='override the stage-1 iterations (custom schedule)')
    p.add_argument('--stage2-epochs', type=int, default=None,
                   help='override the stage-2 epochs (custom schedule)')
    p.add_argument('--amp', action='store_true',
                   help='bf16 autocast of the networks on CUDA '
                   '(model.bf16=True, as tools/train.py --amp); ignored by '
                   'the model on cpu')
    p.add_argument('--profile', action='store_true',
                   help='cProfile one stage-1 and one stage-2 iteration '
                   '(top 15 by tottime; adds their overhead to the timings)')
    p.add_argument('--threads', type=int, default=None,
                   help='torch intra-op threads (default: torch\'s choice, '
                   'usually the core count)')
    p.add_argument('--no-proposal-bench', action='store_true',
                   help='skip the proposal / soft-NMS comparison')
    p.add_argument('--bench-checkpoint', default=None,
                   help='compare proposal generation and soft-NMS on the test '
                   'outputs of this trained checkpoint (same model config and '
                   'data; loaded after the timed run) instead of those of the '
                   'model the schedule just trained')
    p.add_argument('--bench-batches', type=int, default=None,
                   help='compare on the first N test batches only (default: '
                   'all; --quick: 8)')
    p.add_argument('--repeats', type=int, default=None,
                   help='timed repeats of our proposal / soft-NMS code, the '
                   'best is kept (default 3 on cuda after a warm-up call, 1 '
                   'on cpu); the naive code runs once')
    return p.parse_args(argv)


# ---------------------------------------------------------------------------
# the steps of main()
# ---------------------------------------------------------------------------
def select_device(args) -> bool:
    """Fix ``args.device`` (hiding CUDA for ``--device cpu`` before torch
    is imported, so the runner picks the CPU); True on CUDA."""
    if args.device == 'cpu':
        os.environ['CUDA_VISIBLE_DEVICES'] = ''
    import torch
    if args.device is None:
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: no CUDA device is available')
    if args.threads:
        torch.set_num_threads(args.threads)
    return args.device == 'cuda'


def warn_if_shared(cuda: bool):
    """The load average at the start (None where the OS has none); warns
    when other processes hold the CPUs."""
    from speed_lib.machine import cpu_count, load_average
    load = load_average()
    if load is not None and load > cpu_count() and not cuda:
        print(f'[speed] WARNING: load average {load:.1f} on {cpu_count()} '
              'cores: other processes share the CPUs; torch\'s multi-threaded '
              'kernels can be several times slower then (try --threads 1)',
              flush=True)
    return load


def requested_schedule(args):
    """(stage-1 iterations, stage-2 epochs) to run; None: the config's."""
    s1, s2 = QUICK_SCHEDULE[args.device] if args.quick else (None, None)
    if args.stage1_iters is not None:
        s1 = args.stage1_iters
    if args.stage2_epochs is not None:
        s2 = args.stage2_epochs
    if (s1 is not None and s1 < 1) or (s2 is not None and s2 < 1):
        raise SystemExit('the benchmark times both stages: --stage1-iters '
                         'and --stage2-epochs must be >= 1')
    return s1, s2


def prepare_work_dir(args) -> str:
    """Make the work dir; remove an earlier run's mining file and
    checkpoints (reused, they would not be timed), but only in a work dir
    this benchmark made."""
    work_dir = args.work_dir or osp.join(
        ROOT, 'work_dirs', f'speed_{args.device}' + ('_quick' if args.quick
                                                     else ''))
    os.makedirs(work_dir, exist_ok=True)
    marker = osp.join(work_dir, '.speed_benchmark')
    stale = [f for f in ('mined_proposals.pt', 'stage1.pth', 'stage2.pth')
             if osp.isfile(osp.join(work_dir, f))]
    if stale and not osp.isfile(marker):
        raise SystemExit(f'--work-dir {work_dir} holds {", ".join(stale)} '
                         'of another run; pick an empty or new directory')
    for f in stale:
        os.remove(osp.join(work_dir, f))
    open(marker, 'w').close()
    return work_dir


def train_and_test(cfg, timeline, cuda: bool):
    """Build the runner, train (timed by the timeline's hooks) and test
    (the recorder keeping the proposal inputs)."""
    import torch
    from mmengine.runner import Runner

    from hrpro_plugin.engine.utils import unwrap
    from speed_lib.recorder import Recorder
    from speed_lib.timeline import attach
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    timeline.mark('start', log=False)
    runner = Runner.from_cfg(cfg)
    attach(runner, timeline)
    runner.train()
    model = unwrap(runner.model)
    timeline.mark('test_start', log=False)
    with Recorder(model) as rec:
        metrics = runner.test()
    timeline.mark('test_end', ends_phase='test')
    return runner, model, rec, metrics


def total_snippets(dataset) -> int:
    return sum(int(dataset.get_data_info(i)['num_snippets'])
               for i in range(len(dataset)))


def collect_results(args, argv, cfg, sched, data, runner, timeline,
                    metrics, full) -> dict:
    """Everything of ``speed.json`` but the proposal comparison."""
    import torch
    from speed_lib.machine import cpu_count, cpu_name
    from speed_lib.timeline import phase_summary
    cuda = args.device == 'cuda'
    loop = runner.train_loop
    sched['stage2_iters_per_epoch'] = (len(loop.stage2_dataloader)
                                       if loop.stage2_dataloader is not None
                                       else 0)
    test_ds = runner.test_dataloader.dataset
    train_ds = runner.train_dataloader.dataset
    data['num_train'], data['num_test'] = len(train_ds), len(test_ds)
    data['test_snippets'] = total_snippets(test_ds)
    data['train_snippets'] = total_snippets(train_ds)
    phases, totals = phase_summary(
        timeline, full['stage1_iters'],
        full['stage2_epochs'] * sched['stage2_iters_per_epoch'],
        data['train_snippets'], data['test_snippets'])
    return dict(
        device=args.device,
        device_name=(torch.cuda.get_device_name() if cuda else cpu_name()),
        torch=torch.__version__, threads=torch.get_num_threads(),
        cpu_count=cpu_count(),
        feat_dim=data['feat_dim'], num_classes=int(cfg.num_classes),
        amp=bool(args.amp), bf16_active=bool(args.amp and cuda),
        command=' '.join([osp.relpath(osp.abspath(__file__), ROOT)] +
                         (argv if argv is not None else sys.argv[1:])),
        schedule=sched, data=data, phases=phases, totals=totals,
        metrics={k: float(v) for k, v in metrics.items()},
    )


def compare_proposals(args, res, runner, model, rec):
    """Add ``proposal_bench`` (and ``bench_checkpoint``) to ``res``."""
    import torch
    from speed_lib.proposal_bench import proposal_bench
    from speed_lib.recorder import bench_checkpoint_outputs
    if args.no_proposal_bench:
        return
    if args.bench_checkpoint:
        rec, res['bench_checkpoint'] = bench_checkpoint_outputs(
            runner, model, args.bench_checkpoint)
    if not rec.candidates:
        return
    print('[speed] timing proposal generation and soft-NMS against the '
          'naive references...', flush=True)
    cuda = args.device == 'cuda'
    with torch.no_grad():
        res['proposal_bench'] = proposal_bench(
            rec, model, args.device, args.repeats or (3 if cuda else 1),
            args.bench_batches or (8 if args.quick else None))
    res['proposal_bench']['test_batches'] = len(rec.candidates)


def write_and_check(res: dict, work_dir: str, timeline) -> None:
    """Print the report, write ``speed.json`` (and the profiles); exit
    non-zero when ours and the naive reference differ."""
    from speed_lib.proposal_bench import mismatches
    from speed_lib.report import report
    for name, prof in timeline.profiles.items():
        with open(osp.join(work_dir, f'profile_{name}.txt'), 'w') as f:
            f.write(prof['top15'])
    text = report(res)
    print(text, flush=True)
    res['table'] = text
    out = osp.join(work_dir, 'speed.json')
    with open(out, 'w') as f:
        json.dump(res, f, indent=1)
    print(f'[speed] written to {out}', flush=True)
    bad = mismatches(res.get('proposal_bench'))
    if bad:
        raise SystemExit(f'[speed] ours and the naive reference differ: '
                         f'{", ".join(bad)} (details in {out})')


# ---------------------------------------------------------------------------
def main(argv=None):
    args = parse_args(argv)
    cuda = select_device(args)
    import hrpro_plugin  # noqa: F401  (registers the parts)
    from speed_lib.data import prepare_data
    from speed_lib.machine import load_average
    from speed_lib.schedule import build_config, describe_schedule
    from speed_lib.timeline import Timeline

    load_start = warn_if_shared(cuda)
    feat_dim = args.feat_dim or (2048 if cuda else 256)
    data = prepare_data(args.data_root or osp.join(
        ROOT, 'data', f'synthetic_speed_{feat_dim}d'), feat_dim,
        args.feat_dim is not None)
    s1, s2 = requested_schedule(args)
    work_dir = prepare_work_dir(args)
    if args.amp and not cuda:
        print('[speed] note: --amp (bf16 autocast) is CUDA-only; the model '
              'runs in float32 on cpu', flush=True)
    cfg, full = build_config(data['data_root'], work_dir, s1, s2,
                             amp=args.amp)
    sched = describe_schedule(cfg, full, args.quick,
                              args.stage1_iters is not None or
                              args.stage2_epochs is not None)
    timeline = Timeline(cuda)
    if args.profile:
        timeline.profile_at = {
            'stage1': min(4, max(0, sched['stage1_iters'] - 1)), 'stage2': 2}
    print(f'[speed] {sched["name"].upper()} schedule: {sched["stage1_iters"]} '
          f'stage-1 iterations, {sched["stage2_epochs"]} stage-2 epochs; '
          f'device {args.device}, feat_dim {data["feat_dim"]}'
          + (', bf16 autocast' if args.amp and cuda else ''), flush=True)

    runner, model, rec, metrics = train_and_test(cfg, timeline, cuda)
    res = collect_results(args, argv, cfg, sched, data, runner, timeline,
                          metrics, full)
    if timeline.profiles:
        res['profiles'] = timeline.profiles
    compare_proposals(args, res, runner, model, rec)
    if load_start is not None:
        res['load_average'] = [load_start, load_average()]
    write_and_check(res, work_dir, timeline)
    return res


if __name__ == '__main__':
    main()
