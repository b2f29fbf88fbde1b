"""One prepared check of HR-Pro on a CUDA machine, with one JSON report.

    python benchmarks/gpu_check.py [--out DIR] [--deps DIR] [--dry-run]
        [--data-root DIR] [--budget S] [--timeout STEP=S ...] [--skip STEP ...]

Steps (each its own subprocess with its own timeout; a failed or timed-out
step is recorded and the next one runs):

1. ``env``: Python, torch, CUDA and cuDNN versions, the device (name,
   memory, bf16 support), the versions of mmengine / mmcv / mmaction /
   pytest as this interpreter imports them.
2. ``cuda_tests``: ``pytest -m cuda tests/cuda`` with
   ``HRPRO_TEST_DEVICE=cuda``: CPU-vs-GPU equality of the stage-1 network,
   pseudo snippets, candidates / OIC, RoI-align, the instance head,
   soft-NMS and the metric, bf16 against float32, checkpoints moved
   between devices. Counts and failing test names come from its JUnit XML.
3. ``data``: THUMOS14-scale synthetic features (the real video lengths,
   segments and splits of ``data/thumos14/gt_full.json``) at 2048-d, made
   by ``tools/make_synthetic_dataset.py`` unless ``--data-root`` already
   holds a dataset (e.g. real I3D features).
4. ``speed``: ``benchmarks/speed.py --device cuda`` on that data, the full
   schedule (1,000 stage-1 iterations, mining, 20 stage-2 epochs, test).
5. ``speed_amp``: the same with ``--amp`` (bf16 autocast).

The report (``<out>/report.json``) holds the device name, torch and CUDA
versions, per step its status, seconds, return code, log file and error
text, the test counts, and per speed run each phase's seconds and peak
memory, the mAP and the phase table; the tables are printed at the end.
The exit status is 1 when any step failed, else 0.

``--dry-run`` runs the same steps on the CPU at tiny sizes (the ``cuda``
tests compare CPU with CPU, a 16-d synthetic set of 15 videos, 2 stage-1
iterations and 1 stage-2 epoch) to prove the script works where there is
no GPU. ``--deps DIR`` puts a folder of installed wheels (see
``benchmarks/fetch_wheels.sh``) on the path of every step.

Standard library only: it runs before anything is known to import.
"""
import argparse
import json
import os
import os.path as osp
import platform
import re
import shlex
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
STEPS = ('env', 'cuda_tests', 'data', 'speed', 'speed_amp')
# seconds; together 480 (8 minutes), which --budget also caps
TIMEOUTS = dict(env=30, cuda_tests=90, data=60, speed=180, speed_amp=120)
DRY_TIMEOUTS = dict(env=30, cuda_tests=60, data=30, speed=90, speed_amp=90)
DEFAULT_BUDGET = 480.0
TARGET_S = 60.0      # both stages plus the test evaluation, one GPU
REPORT_VERSION = 1

# the tiny dry-run dataset and schedule
DRY_DATA = ['--num-classes', '3', '--num-train', '10', '--num-test', '5',
            '--feat-dim', '16', '--mean-snippets', '40']
DRY_SPEED = ['--stage1-iters', '2', '--stage2-epochs', '1',
             '--bench-batches', '1']

ENV_CODE = r'''
import importlib, json, os, platform, sys
out = dict(python=sys.version.split()[0], executable=sys.executable,
           platform=platform.platform())
try:
    import torch
    out['torch'] = torch.__version__
    out['cuda'] = torch.version.cuda
    out['cudnn'] = (torch.backends.cudnn.version()
                    if torch.backends.cudnn.is_available() else None)
    out['threads'] = torch.get_num_threads()
    out['cuda_available'] = torch.cuda.is_available()
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        out.update(device_count=torch.cuda.device_count(),
                   device_name=torch.cuda.get_device_name(0),
                   capability='%d.%d' % (p.major, p.minor),
                   total_memory_mib=round(p.total_memory / 2**20),
                   bf16_supported=torch.cuda.is_bf16_supported())
except Exception as err:  # recorded, then the step fails
    out['torch_error'] = '%s: %s' % (type(err).__name__, err)
# versions from the installed metadata (importing mmaction here would cost
# seconds that the later steps pay anyway; they report import errors)
from importlib import metadata, util
versions, errors = {}, {}
for mod, dist in (('numpy', 'numpy'), ('mmengine', 'mmengine'),
                  ('mmcv', 'mmcv-lite'), ('mmaction', 'mmaction2'),
                  ('terminaltables', 'terminaltables'), ('pytest', 'pytest'),
                  ('hrpro_plugin', None)):
    if util.find_spec(mod) is None:
        errors[dist or mod] = 'not importable (no module %r)' % mod
        continue
    if dist:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = 'unknown (no metadata)'
out['packages'] = versions
out['import_errors'] = errors
print('GPU_CHECK_ENV ' + json.dumps(out))
'''


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='prepared CUDA check of HR-Pro (tests, speed, report)',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='steps: ' + ', '.join(STEPS))
    p.add_argument('--out', default=osp.join('work_dirs', 'gpu_check'),
                   help='report folder (default work_dirs/gpu_check, '
                   'relative to the repository root)')
    p.add_argument('--dry-run', action='store_true',
                   help='CPU, tiny sizes: proves the script works')
    p.add_argument('--deps', default=None,
                   help='a folder of installed dependencies (pip install '
                   '--target DIR), put on PYTHONPATH of every step')
    p.add_argument('--data-root', default=None,
                   help='dataset for the speed runs (default <out>/data_'
                   'thumos14_2048d, generated; used as is when it holds '
                   'gt_full.json and features/)')
    p.add_argument('--budget', type=float, default=DEFAULT_BUDGET,
                   help='wall-clock seconds for all steps together (default '
                   '%(default)s); a step gets min(its timeout, what is left)')
    p.add_argument('--timeout', action='append', default=[],
                   metavar='STEP=S', help='override one step\'s timeout')
    p.add_argument('--skip', action='append', default=[], choices=STEPS,
                   help='leave a step out (recorded as skipped)')
    return p.parse_args(argv)


# ---------------------------------------------------------------------------
# running one step
# ---------------------------------------------------------------------------
def _tail(text: str, lines: int = 25, chars: int = 4000) -> str:
    return '\n'.join(text.splitlines()[-lines:])[-chars:]


def run_step(name, cmd, env, timeout, log_path):
    """Run ``cmd`` (cwd: the repository root) with stdout and stderr into
    ``log_path``; kill its process group at ``timeout``. Returns the step
    record (status passed / failed / timeout) and the output text."""
    print(f'[gpu_check] {name}: {" ".join(shlex.quote(c) for c in cmd)} '
          f'(timeout {timeout:.0f} s)', flush=True)
    rec = dict(command=cmd, timeout_s=round(timeout, 1), log=log_path)
    t0 = time.perf_counter()
    if timeout <= 0:
        rec.update(status='timeout', seconds=0.0, returncode=None,
                   error='no time left in the --budget')
        return rec, ''
    with open(log_path, 'w') as log:
        try:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log,
                                    stderr=subprocess.STDOUT,
                                    start_new_session=True)
        except OSError as err:
            rec.update(status='failed', seconds=0.0, returncode=None,
                       error=f'could not start: {err}')
            return rec, ''
        try:
            rc = proc.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                proc.wait()
            rc = proc.returncode
        except KeyboardInterrupt:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
    seconds = time.perf_counter() - t0
    with open(log_path, errors='replace') as f:
        text = f.read()
    rec.update(seconds=round(seconds, 2), returncode=rc)
    if timed_out:
        rec.update(status='timeout',
                   error=f'timed out after {timeout:.0f} s; last output:\n'
                   + _tail(text))
    elif rc != 0:
        rec.update(status='failed', error=f'exit status {rc}; last '
                   'output:\n' + _tail(text))
    else:
        rec.update(status='passed', error=None)
    print(f'[gpu_check] {name}: {rec["status"]} in {seconds:.1f} s',
          flush=True)
    return rec, text


# ---------------------------------------------------------------------------
# reading the outputs
# ---------------------------------------------------------------------------
def parse_env(text):
    for line in text.splitlines():
        if line.startswith('GPU_CHECK_ENV '):
            return json.loads(line[len('GPU_CHECK_ENV '):])
    return None


def parse_junit(path):
    """Counts and failing test ids of a pytest JUnit XML file."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == 'testsuite' else root.findall('testsuite')
    out = dict(total=0, passed=0, failed=0, errors=0, skipped=0, seconds=0.0,
               failures=[], skipped_tests=[])
    for suite in suites:
        for case in suite.iter('testcase'):
            out['total'] += 1
            out['seconds'] += float(case.get('time') or 0)
            tid = f'{case.get("classname")}::{case.get("name")}'
            if case.find('failure') is not None:
                out['failed'] += 1
                msg = case.find('failure').get('message') or ''
                out['failures'].append(f'{tid}: {msg[:500]}')
            elif case.find('error') is not None:
                out['errors'] += 1
                msg = case.find('error').get('message') or ''
                out['failures'].append(f'{tid} (error): {msg[:500]}')
            elif case.find('skipped') is not None:
                out['skipped'] += 1
                out['skipped_tests'].append(tid)
            else:
                out['passed'] += 1
    out['seconds'] = round(out['seconds'], 2)
    return out


ITER_RE = re.compile(r'Iter\(train\)\s*\[\s*(\d+)/\s*(\d+)\].*?\btime:\s*'
                     r'([0-9.]+)')
MARK_RE = re.compile(r'^\[speed\] (\w+) \(\+([0-9.]+) s\)', re.M)


def speed_progress(text):
    """What a speed run printed before it ended (useful when it timed out):
    its phase marks and the last logged training iteration."""
    out = dict(marks={m.group(1): float(m.group(2))
                      for m in MARK_RE.finditer(text)})
    its = ITER_RE.findall(text)
    if its:
        it, total, sec = its[-1]
        out.update(last_iter=int(it), total_iters=int(total),
                   last_iter_time_s=float(sec))
    return out


def speed_summary(path):
    """The figures of one speed.json that the report keeps."""
    with open(path) as f:
        res = json.load(f)
    phases = {}
    for name, ph in res['phases'].items():
        phases[name] = {k: ph.get(k) for k in
                        ('seconds', 'peak_mem_mib', 'iterations',
                         'per_iteration_s', 'full_estimate_s',
                         'snippets_per_s') if k in ph}
    totals = res['totals']
    sched = res['schedule']
    metrics = res.get('metrics', {})
    out = dict(
        speed_json=path, device=res['device'],
        device_name=res['device_name'], torch=res['torch'],
        amp=res.get('amp', False), bf16_active=res.get('bf16_active', False),
        feat_dim=res['feat_dim'], schedule=sched, phases=phases,
        totals=totals, peak_mem_mib=totals.get('peak_mem_mib'),
        mAP=dict(avg=metrics.get('mAP_avg'), at_0_5=metrics.get('mAP@0.50'),
                 at_0_7=metrics.get('mAP@0.70')),
        metrics=metrics, synthetic=res['data'].get('synthetic'),
        table=res.get('table'))
    pb = res.get('proposal_bench')
    if pb:
        out['proposal_bench'] = {
            k: dict(ours_device_s=pb[k]['ours_device_s'],
                    naive_s=pb[k]['naive_s'],
                    ratio_device=pb[k]['ratio_device'],
                    same_outputs=pb[k]['same_outputs'])
            for k in ('candidates', 'soft_nms') if k in pb}
    full = sched.get('name') == 'full'
    out['target'] = dict(
        target_s=TARGET_S, train_test_s=totals.get('train_test_s'),
        schedule=sched.get('name'),
        meets_target=(bool(totals['train_test_s'] <= TARGET_S)
                      if full and res['device'] == 'cuda' else None))
    return out


# ---------------------------------------------------------------------------
def _timeouts(args):
    table = dict(DRY_TIMEOUTS if args.dry_run else TIMEOUTS)
    for item in args.timeout:
        name, _, value = item.partition('=')
        if name not in table:
            raise SystemExit(f'--timeout {item}: unknown step {name!r} '
                             f'(steps: {", ".join(STEPS)})')
        try:
            table[name] = float(value)
        except ValueError:
            raise SystemExit(f'--timeout {item}: not a number of seconds')
    return table


def _env(args, deps):
    env = dict(os.environ)
    paths = [p for p in (deps, ROOT) if p]
    if env.get('PYTHONPATH'):
        paths.append(env['PYTHONPATH'])
    env['PYTHONPATH'] = os.pathsep.join(paths)
    env['PYTHONUNBUFFERED'] = '1'
    env['HRPRO_TEST_DEVICE'] = 'cpu' if args.dry_run else 'cuda'
    if args.dry_run:
        env['CUDA_VISIBLE_DEVICES'] = ''   # the CPU even on a GPU machine
    return env


def _is_dataset(root):
    return (osp.isfile(osp.join(root, 'gt_full.json')) and
            osp.isdir(osp.join(root, 'features', 'train')))


def _feat_dim_of(root):
    try:
        with open(osp.join(root, 'synthetic.json')) as f:
            return json.load(f).get('feat_dim')
    except (OSError, ValueError):
        return None


def main(argv=None):
    args = parse_args(argv)
    t_start = time.perf_counter()
    out = osp.abspath(args.out if osp.isabs(args.out)
                      else osp.join(ROOT, args.out))
    logs = osp.join(out, 'logs')
    os.makedirs(logs, exist_ok=True)
    deps = None
    if args.deps:
        deps = osp.abspath(args.deps)
        if not osp.isdir(deps):
            raise SystemExit(f'--deps {args.deps}: no such folder')
        sys.path.insert(0, deps)
    timeouts = _timeouts(args)
    env = _env(args, deps)
    py = sys.executable
    dry = args.dry_run
    feat_dim = 16 if dry else 2048
    data_root = osp.abspath(args.data_root) if args.data_root else osp.join(
        out, 'data_tiny' if dry else f'data_thumos14_{feat_dim}d')

    report = dict(
        report_version=REPORT_VERSION, dry_run=dry,
        started_at=time.strftime('%Y-%m-%dT%H:%M:%S%z'),
        command=[osp.relpath(osp.abspath(__file__), ROOT)] +
        list(sys.argv[1:] if argv is None else argv),
        out=out, deps=deps, data_root=data_root, budget_s=args.budget,
        host=dict(python=platform.python_version(),
                  platform=platform.platform()),
        device_name=None, torch_version=None, cuda_version=None,
        env=None, steps={}, tests=None, speed={}, failed_steps=[], ok=False)
    report_path = osp.join(out, 'report.json')

    def save():
        report['wall_s'] = round(time.perf_counter() - t_start, 2)
        report['failed_steps'] = [n for n, s in report['steps'].items()
                                  if s['status'] not in ('passed', 'skipped')]
        report['ok'] = (not report['failed_steps'] and
                        any(s['status'] == 'passed'
                            for s in report['steps'].values()))
        # standard library only (this driver runs before the plugin's
        # dependencies are installed), hence not hrpro_plugin.fileio
        tmp = report_path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(report, f, indent=1)
        os.replace(tmp, report_path)

    def left():
        return args.budget - (time.perf_counter() - t_start)

    def step(name, cmd, step_env=None):
        if name in args.skip:
            report['steps'][name] = dict(status='skipped', seconds=0.0,
                                         error=None)
            save()
            return None, None
        rec, text = run_step(name, cmd, step_env or env,
                             min(timeouts[name], left()),
                             osp.join(logs, f'{name}.log'))
        report['steps'][name] = rec
        save()
        return rec, text

    print(f'[gpu_check] {"DRY RUN (cpu, tiny sizes)" if dry else "CUDA"}; '
          f'report: {report_path}', flush=True)

    # 1. environment
    rec, text = step('env', [py, '-c', ENV_CODE])
    if rec is not None:
        info = parse_env(text)
        report['env'] = info
        if info:
            report['device_name'] = info.get('device_name') or (
                'cpu' if dry else None)
            report['torch_version'] = info.get('torch')
            report['cuda_version'] = info.get('cuda')
            problems = []
            if info.get('torch_error'):
                problems.append(f'torch: {info["torch_error"]}')
            problems += [f'{k}: {v}' for k, v in
                         (info.get('import_errors') or {}).items()]
            if not dry and not info.get('cuda_available'):
                problems.append('torch sees no CUDA device (use --dry-run '
                                'on a CPU machine)')
            if problems and rec['status'] == 'passed':
                rec.update(status='failed', error='; '.join(problems))
        elif rec['status'] == 'passed':
            rec.update(status='failed', error='no GPU_CHECK_ENV line in the '
                       'output')
        save()

    # 2. the cuda-marked tests
    junit = osp.join(out, 'cuda_tests.xml')
    if osp.isfile(junit):
        os.remove(junit)
    rec, text = step('cuda_tests', [
        py, '-m', 'pytest', '-m', 'cuda', 'tests/cuda', '-q', '-rfE',
        f'--junitxml={junit}'])
    if rec is not None:
        if osp.isfile(junit):
            try:
                report['tests'] = dict(parse_junit(junit), junit=junit,
                                       device=env['HRPRO_TEST_DEVICE'])
            except ET.ParseError as err:
                rec['error'] = (rec.get('error') or '') + f'; junit: {err}'
        if report['tests'] and report['tests']['total'] == 0 and \
                rec['status'] == 'passed':
            rec.update(status='failed', error='no test ran')
        if report['tests'] and report['tests']['failures'] and \
                rec['status'] != 'passed':
            rec['error'] = ('failed tests:\n' +
                            '\n'.join(report['tests']['failures'])[:4000] +
                            '\n' + (rec.get('error') or ''))
        save()

    # 3. data
    if _is_dataset(data_root) and _feat_dim_of(data_root) in (None, feat_dim):
        report['steps']['data'] = dict(
            status='passed', seconds=0.0, error=None, reused=True,
            command=None, note=f'{data_root} holds a dataset: used as is')
        save()
    else:
        cmd = [py, 'tools/make_synthetic_dataset.py', '--out', data_root,
               '--quiet']
        cmd += DRY_DATA if dry else [
            '--annotations', osp.join('data', 'thumos14', 'gt_full.json'),
            '--feat-dim', str(feat_dim)]
        step('data', cmd)

    # 4-5. speed, float32 then bf16 autocast
    device = 'cpu' if dry else 'cuda'
    for name, key, extra in (('speed', 'fp32', []),
                             ('speed_amp', 'amp', ['--amp'])):
        work_dir = osp.join(out, f'speed_{key}')
        cmd = [py, 'benchmarks/speed.py', '--device', device,
               '--data-root', data_root, '--work-dir', work_dir] + extra
        if dry:
            cmd += DRY_SPEED + (['--no-proposal-bench'] if extra else [])
        stale = osp.join(work_dir, 'speed.json')
        if osp.isfile(stale):
            os.remove(stale)
        rec, text = step(name, cmd)
        if rec is None:
            continue
        if osp.isfile(stale) and rec['status'] == 'passed':
            try:
                report['speed'][key] = speed_summary(stale)
            except (KeyError, ValueError, TypeError) as err:
                rec.update(status='failed',
                           error=f'unreadable {stale}: {err!r}')
        else:
            report['speed'][key] = dict(progress=speed_progress(text or ''),
                                        speed_json=None)
            if rec['status'] == 'passed':
                rec.update(status='failed', error=f'no {stale} written')
        save()

    save()
    print_summary(report)
    print(f'[gpu_check] report: {report_path}', flush=True)
    return 0 if report['ok'] else 1


def print_summary(report):
    for key in ('fp32', 'amp'):
        s = report['speed'].get(key) or {}
        if s.get('table'):
            print(f'\n==== speed ({key}) ====\n{s["table"]}', flush=True)
        elif s.get('progress'):
            print(f'\n==== speed ({key}): no result; progress '
                  f'{json.dumps(s["progress"])}', flush=True)
    t = report.get('tests')
    rows = [('step', 'status', 'seconds', 'note')]
    for name, rec in report['steps'].items():
        note = ''
        if name == 'cuda_tests' and t:
            note = (f'{t["passed"]}/{t["total"]} passed, {t["failed"]} '
                    f'failed, {t["errors"]} errors, {t["skipped"]} skipped '
                    f'({t["device"]})')
        elif name.startswith('speed'):
            s = report['speed'].get('amp' if name == 'speed_amp' else 'fp32')
            if s and s.get('totals'):
                note = (f'train+test {s["totals"]["train_test_s"]:.1f} s, '
                        f'peak {s["peak_mem_mib"] or 0:.0f} MiB, '
                        f'mAP avg {s["mAP"]["avg"] or float("nan"):.2f}')
        elif name == 'env' and report.get('env') and \
                rec['status'] == 'passed':
            e = report['env']
            note = (f'{report.get("device_name")}; torch '
                    f'{e.get("torch")}, CUDA {e.get("cuda")}')
        if rec.get('error') and not note:
            lines = [ln for ln in rec['error'].splitlines() if ln.strip()]
            note = lines[0]
            if note.endswith('last output:') and len(lines) > 1:
                note = f'{note.split(";")[0]}: {lines[-1].strip()}'
            note = note[:110]
        rows.append((name, rec['status'], f'{rec.get("seconds", 0):.1f}',
                     note))
    widths = [max(len(str(r[i])) for r in rows) for i in range(4)]
    print('', flush=True)
    for r in rows:
        print('  '.join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    print(f'overall: {"PASSED" if report["ok"] else "FAILED"} in '
          f'{report["wall_s"]:.1f} s' + (
              f' (failed: {", ".join(report["failed_steps"])})'
              if report['failed_steps'] else ''), flush=True)


if __name__ == '__main__':
    sys.exit(main())
