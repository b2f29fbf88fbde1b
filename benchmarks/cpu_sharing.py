"""Seconds per training iteration when trainings share the CPUs.

    python benchmarks/cpu_sharing.py [--procs 1 2] [--threads 1 default]
        [--wait-policy default PASSIVE] [--iters 30] [--data-root DIR]
        [--work-dir DIR] [--tiny]

For every combination of ``--procs`` (how many trainings run at once),
``--threads`` (``default``: neither ``OMP_NUM_THREADS`` nor
``HRPRO_NUM_THREADS`` set, so the tools take the CPUs of the process, see
``hrpro_plugin/utils/threads.py``; a number N: both set to N) and
``--wait-policy`` (``default``: ``OMP_WAIT_POLICY`` unset; ``PASSIVE`` /
``ACTIVE``: set), N copies of ``tools/train.py`` train stage 1 of
``configs/hrpro_stage1_synthetic.py`` (no stage 2) at the same time, on the
same synthetic data, each in its own work dir. Every iteration is logged
(logger interval 1, window 1) and the seconds per iteration of a process
are the median of its iteration times after ``--warmup`` iterations (from
MMEngine's ``scalars.json``: the step's wall time, data loading included).
The table gives each setting's seconds per iteration (mean over its
processes, and each process), and the slowdown against one process with
the same thread settings. It is written to ``<work-dir>/cpu_sharing.json``.

Run it on an otherwise idle machine: other load changes every figure.
``--tiny`` (a 15-video 16-d set, 4 iterations) only checks that it runs.
The data default is ``tools/make_synthetic_dataset.py``'s (``make demo``),
generated into ``<work-dir>/data`` when ``--data-root`` is not given.
"""
import argparse
import itertools
import json
import os
import os.path as osp
import shutil
import statistics
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = 'configs/hrpro_stage1_synthetic.py'
TINY_DATA = ['--num-classes', '3', '--num-train', '10', '--num-test', '5',
             '--feat-dim', '16', '--mean-snippets', '40']


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='training seconds per iteration under CPU sharing',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--procs', type=int, nargs='+', default=[1, 2],
                   help='trainings at once (default: 1 2)')
    p.add_argument('--threads', nargs='+', default=['1', 'default'],
                   help="torch threads per process: 'default' or a number "
                   '(default: 1 default)')
    p.add_argument('--wait-policy', nargs='+', default=['default', 'PASSIVE'],
                   help="OMP_WAIT_POLICY: 'default' (unset), PASSIVE or "
                   'ACTIVE (default: default PASSIVE)')
    p.add_argument('--iters', type=int, default=30,
                   help='stage-1 iterations per training (default 30)')
    p.add_argument('--warmup', type=int, default=2,
                   help='first iterations left out of the median')
    p.add_argument('--batch-size', type=int, default=None,
                   help="videos per iteration (default: the config's 16)")
    p.add_argument('--data-root', default=None,
                   help='dataset (default: generated in <work-dir>/data)')
    p.add_argument('--work-dir', default=osp.join('work_dirs', 'cpu_sharing'))
    p.add_argument('--timeout', type=float, default=1800,
                   help='seconds per setting before its trainings are '
                   'killed')
    p.add_argument('--tiny', action='store_true',
                   help='tiny data, 4 iterations: checks that it runs')
    args = p.parse_args(argv)
    for t in args.threads:
        if t != 'default' and not (t.isdigit() and int(t) >= 1):
            p.error(f"--threads {t!r}: 'default' or a positive integer")
    for w in args.wait_policy:
        if w not in ('default', 'PASSIVE', 'ACTIVE'):
            p.error(f'--wait-policy {w!r}: default, PASSIVE or ACTIVE')
    if any(n < 1 for n in args.procs):
        p.error('--procs: at least 1')
    if args.tiny:
        args.iters = min(args.iters, 4)
        args.warmup = min(args.warmup, 1)
    if args.iters <= args.warmup:
        p.error('--iters must exceed --warmup')
    return args


def setting_env(threads: str, wait: str) -> dict:
    env = dict(os.environ)
    for k in ('OMP_NUM_THREADS', 'HRPRO_NUM_THREADS', 'MKL_NUM_THREADS',
              'OMP_WAIT_POLICY'):
        env.pop(k, None)
    if threads != 'default':
        env['OMP_NUM_THREADS'] = env['MKL_NUM_THREADS'] = threads
        env['HRPRO_NUM_THREADS'] = threads
    if wait != 'default':
        env['OMP_WAIT_POLICY'] = wait
    env['CUDA_VISIBLE_DEVICES'] = ''        # the CPU, even on a GPU machine
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (ROOT, env.get('PYTHONPATH')) if p)
    return env


def iteration_times(work_dir: str) -> list:
    """Per-iteration seconds of the run in ``work_dir`` (its newest
    ``scalars.json``), in iteration order."""
    found = []
    for dirpath, _, files in os.walk(work_dir):
        if 'scalars.json' in files:
            found.append(osp.join(dirpath, 'scalars.json'))
    if not found:
        raise FileNotFoundError(f'no scalars.json under {work_dir}')
    times = {}
    with open(max(found, key=osp.getmtime)) as f:
        for line in f:
            rec = json.loads(line)
            if 'time' in rec and 'iter' in rec:
                times[int(rec['iter'])] = float(rec['time'])
    return [times[k] for k in sorted(times)]


def run_setting(args, data_root, procs, threads, wait, out_dir):
    env = setting_env(threads, wait)
    opts = [f'train_cfg.stage1_iters={args.iters}',
            'default_hooks.logger.interval=1', 'log_processor.window_size=1',
            f'default_hooks.checkpoint.interval={args.iters + 1}']
    if args.batch_size:
        opts.append(f'train_dataloader.batch_size={args.batch_size}')
    runs = []
    t0 = time.perf_counter()
    for i in range(procs):
        wd = osp.join(out_dir, f'proc{i}')
        shutil.rmtree(wd, ignore_errors=True)
        os.makedirs(wd)
        log = open(osp.join(wd, 'train.log'), 'w')
        cmd = [sys.executable, 'tools/train.py', CONFIG, '--data-root',
               data_root, '--work-dir', wd, '--seed', str(i),
               '--cfg-options'] + opts
        runs.append((subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log,
                                      stderr=subprocess.STDOUT), wd, log))
    results, errors = [], []
    for proc, wd, log in runs:
        try:
            rc = proc.wait(timeout=max(1.0, args.timeout -
                                       (time.perf_counter() - t0)))
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
            errors.append(f'{wd}: killed after {args.timeout:.0f} s')
        log.close()
        if rc != 0:
            with open(osp.join(wd, 'train.log'), errors='replace') as f:
                tail = f.read()[-2000:]
            errors.append(f'{wd}: exit status {rc}\n{tail}')
            continue
        times = iteration_times(wd)
        kept = times[args.warmup:]
        results.append(dict(work_dir=wd, iterations=len(times),
                            s_per_iter=statistics.median(kept),
                            mean_s_per_iter=statistics.fmean(kept)))
    wall = time.perf_counter() - t0
    per = [r['s_per_iter'] for r in results]
    return dict(procs=procs, threads=threads, wait_policy=wait,
                wall_s=wall, processes=results,
                s_per_iter=statistics.fmean(per) if per else None,
                errors=errors)


def table(rows) -> str:
    head = ['procs', 'threads', 'OMP_WAIT_POLICY', 's / iteration (mean)',
            'per process', 'slowdown vs 1 proc', 'wall (s)']
    lines = [head]
    alone = {(r['threads'], r['wait_policy']): r['s_per_iter']
             for r in rows if r['procs'] == 1 and r['s_per_iter']}
    for r in rows:
        base = alone.get((r['threads'], r['wait_policy']))
        s = r['s_per_iter']
        lines.append([
            str(r['procs']), r['threads'], r['wait_policy'],
            'failed' if s is None else f'{s:.3f}',
            ', '.join(f'{p["s_per_iter"]:.3f}' for p in r['processes']),
            f'{s / base:.1f}x' if s and base else '-',
            f'{r["wall_s"]:.0f}'])
    widths = [max(len(row[i]) for row in lines) for i in range(len(head))]
    return '\n'.join('  '.join(c.ljust(w) for c, w in zip(row, widths))
                     .rstrip() for row in lines)


def main(argv=None):
    args = parse_args(argv)
    work_dir = osp.abspath(osp.join(ROOT, args.work_dir)
                           if not osp.isabs(args.work_dir) else args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    data_root = args.data_root
    if data_root is None:
        data_root = osp.join(work_dir, 'data_tiny' if args.tiny else 'data')
        if not osp.isfile(osp.join(data_root, 'gt_full.json')):
            cmd = [sys.executable, 'tools/make_synthetic_dataset.py', '--out',
                   data_root, '--quiet'] + (TINY_DATA if args.tiny else [])
            subprocess.run(cmd, cwd=ROOT, check=True,
                           env=setting_env('1', 'default'))
    data_root = osp.abspath(data_root)
    try:
        ncpu = len(os.sched_getaffinity(0))
    except AttributeError:
        ncpu = os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else None
    print(f'[cpu_sharing] {ncpu} CPUs, load average {load}; data '
          f'{data_root}; {args.iters} stage-1 iterations per training',
          flush=True)
    rows = []
    for procs, threads, wait in itertools.product(
            sorted(set(args.procs)), args.threads, args.wait_policy):
        name = f'p{procs}_t{threads}_w{wait}'
        print(f'[cpu_sharing] {procs} process(es), threads {threads}, '
              f'OMP_WAIT_POLICY {wait} ...', flush=True)
        row = run_setting(args, data_root, procs, threads, wait,
                          osp.join(work_dir, name))
        for err in row['errors']:
            print(f'[cpu_sharing] ERROR {err}', flush=True)
        rows.append(row)
    text = table(rows)
    print(text, flush=True)
    res = dict(cpus=ncpu, load_average_start=load,
               load_average_end=(os.getloadavg()[0]
                                 if hasattr(os, 'getloadavg') else None),
               iterations=args.iters, warmup=args.warmup, config=CONFIG,
               data_root=data_root, tiny=args.tiny, settings=rows,
               table=text)
    out = osp.join(work_dir, 'cpu_sharing.json')
    with open(out, 'w') as f:
        json.dump(res, f, indent=1)
    print(f'[cpu_sharing] written to {out}', flush=True)
    return 1 if any(r['errors'] for r in rows) else 0


if __name__ == '__main__':
    sys.exit(main())
