"""Phase timing of the benchmark run.

A :class:`Timeline` keeps the marks (``perf_counter``), per-phase peak
memory and counters. Two hooks, built with the timeline they write to and
registered on the runner by :func:`attach`, set them:
:class:`PhaseTimerFirst` (priority HIGHEST, before every other hook) and
:class:`PhaseTimerLast` (LOWEST, after every other hook). Stage 1 runs from
``before_train`` (prototype initialisation included) to ``before_stage2``;
mining is ``ProposalMiningHook.before_stage2`` (between the two hooks);
stage 2 runs to ``after_train``. On CUDA every mark synchronises the
device. :func:`phase_summary` turns the marks into the per-phase figures
of ``speed.json``.
"""
import cProfile
import io
import pstats
import time
from typing import Optional

import torch
from mmengine.hooks import Hook

from .machine import peak_rss_mib


def _lengths(data_batch) -> list:
    """``num_snippets`` of the videos of a training batch."""
    if not isinstance(data_batch, dict):
        return []
    samples = data_batch.get('data_samples') or []
    return [int(ds.metainfo['num_snippets']) for ds in samples]


class Timeline:
    """Marks, per-phase peak memory (MiB) and counters (iterations, valid
    and padded snippets), and the cProfile of one iteration per stage
    (``profile_at``: phase -> iteration index in that phase)."""

    def __init__(self, cuda: bool):
        self.cuda = cuda
        self.marks = {}
        self.peak = {}
        self.iters = {'stage1': 0, 'stage2': 0}
        self.snippets = {'stage1': 0, 'stage2': 0}
        self.padded = {'stage1': 0, 'stage2': 0}
        self.profile_at = {}
        self.profiles = {}
        self._profiler = None

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize()

    def mark(self, name: str, ends_phase: Optional[str] = None,
             log: bool = True):
        """Record ``name`` now; ``ends_phase``: also record (and, on CUDA,
        reset) the peak memory of that phase."""
        self.sync()
        self.marks[name] = time.perf_counter()
        if ends_phase is not None:
            if self.cuda:
                self.peak[ends_phase] = \
                    torch.cuda.max_memory_allocated() / 2**20
                torch.cuda.reset_peak_memory_stats()
            else:
                self.peak[ends_phase] = peak_rss_mib()
        if log:
            print(f'[speed] {name} (+{self.elapsed():.1f} s)', flush=True)

    def elapsed(self) -> float:
        return time.perf_counter() - self.marks.get('start',
                                                    time.perf_counter())

    def phase(self) -> str:
        return 'stage2' if 'stage1_end' in self.marks else 'stage1'

    def count(self, data_batch):
        """Count one training iteration of the current phase."""
        phase = self.phase()
        if self.iters[phase] == 0:
            self.mark(f'{phase}_first_iter')
        self.iters[phase] += 1
        if not isinstance(data_batch, dict):
            data_batch = {}
        inputs = data_batch.get('inputs')
        self.snippets[phase] += sum(_lengths(data_batch))
        if isinstance(inputs, (list, tuple)) and inputs:
            self.padded[phase] += len(inputs) * max(x.shape[0] for x in inputs)
        elif inputs is not None and hasattr(inputs, 'shape'):
            self.padded[phase] += inputs.shape[0] * inputs.shape[1]

    def maybe_start_profile(self, data_batch):
        """Start cProfile when this is the iteration ``profile_at`` names."""
        phase = self.phase()
        if self.profile_at.get(phase) != self.iters[phase] - 1 or \
                phase in self.profiles:
            return
        lengths = _lengths(data_batch)
        self._profile_info = dict(phase=phase, iteration=self.iters[phase],
                                  videos=len(lengths),
                                  t_max=max(lengths, default=0),
                                  snippets=sum(lengths))
        self.sync()
        self._profiler = cProfile.Profile()
        self._t_profile = time.perf_counter()
        self._profiler.enable()

    def maybe_stop_profile(self):
        if self._profiler is None:
            return
        self.sync()
        self._profiler.disable()
        wall = time.perf_counter() - self._t_profile
        buf = io.StringIO()
        stats = pstats.Stats(self._profiler, stream=buf)
        stats.sort_stats('tottime').print_stats(15)
        info = dict(self._profile_info, wall_s=round(wall, 4),
                    top15=buf.getvalue())
        self.profiles[info['phase']] = info
        self._profiler = None
        print(f'[speed] profile of {info["phase"]} iteration '
              f'{info["iteration"]} ({info["videos"]} videos, T_max '
              f'{info["t_max"]}, {wall:.3f} s wall):\n{info["top15"]}',
              flush=True)


class PhaseTimerFirst(Hook):
    """Runs before every other hook: train start, stage-1 end (before the
    mining hook), first iteration of each stage, stage-2 end."""
    priority = 'HIGHEST'

    def __init__(self, timeline: Timeline):
        self.timeline = timeline

    def before_train(self, runner):
        self.timeline.mark('train_start', ends_phase='setup')

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.timeline.count(data_batch)

    def before_stage2(self, runner, proposal_file=None):
        self.timeline.mark('stage1_end', ends_phase='stage1')

    def after_train(self, runner):
        self.timeline.mark('stage2_end', ends_phase='stage2')


class PhaseTimerLast(Hook):
    """Runs after every other hook: mining end; profiling brackets the
    whole iteration (model step and the other hooks)."""
    priority = 'LOWEST'

    def __init__(self, timeline: Timeline):
        self.timeline = timeline

    def before_stage2(self, runner, proposal_file=None):
        self.timeline.mark('mining_end', ends_phase='mining')

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.timeline.maybe_start_profile(data_batch)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.timeline.maybe_stop_profile()


def attach(runner, timeline: Timeline) -> None:
    """Register both timers on a built runner, before ``runner.train()``
    (a hook of the same priority registered earlier runs first, as when
    they were the config's last custom hooks)."""
    runner.register_hook(PhaseTimerFirst(timeline), priority='HIGHEST')
    runner.register_hook(PhaseTimerLast(timeline), priority='LOWEST')


def _rate(n, t):
    return n / t if t > 0 else None


def _stage(tl: Timeline, key: str, begin: str, end: str,
           full_iters: int) -> dict:
    """A training phase: its time, the fixed part (to the first iteration),
    the per-iteration time and the full-schedule extrapolation."""
    mk, n = tl.marks, tl.iters[key]
    t = mk[end] - mk[begin]
    fixed = mk.get(f'{key}_first_iter', mk[end]) - mk[begin]
    loop = t - fixed
    return dict(seconds=t, iterations=n, snippets=tl.snippets[key],
                padded_snippets=tl.padded[key],
                snippets_per_s=_rate(tl.snippets[key], t),
                fixed_s=fixed, per_iteration_s=loop / n if n else None,
                peak_mem_mib=tl.peak.get(key),
                full_estimate_s=fixed + (loop / n * full_iters if n else 0.0))


def phase_summary(tl: Timeline, full_stage1_iters: int,
                  full_stage2_iters: int, train_snippets: int,
                  test_snippets: int):
    """``(phases, totals)`` of ``speed.json`` from the marks."""
    mk = tl.marks
    t_setup = mk['train_start'] - mk['start']
    tmine = mk['mining_end'] - mk['stage1_end']
    ttest = mk['test_end'] - mk['test_start']
    phases = dict(
        setup=dict(seconds=t_setup, peak_mem_mib=tl.peak.get('setup')),
        stage1=_stage(tl, 'stage1', 'train_start', 'stage1_end',
                      full_stage1_iters),
        mining=dict(seconds=tmine, snippets=train_snippets,
                    snippets_per_s=_rate(train_snippets, tmine),
                    peak_mem_mib=tl.peak.get('mining'), full_estimate_s=tmine),
        stage2=_stage(tl, 'stage2', 'mining_end', 'stage2_end',
                      full_stage2_iters),
        test=dict(seconds=ttest, snippets=test_snippets,
                  snippets_per_s=_rate(test_snippets, ttest),
                  peak_mem_mib=tl.peak.get('test'), full_estimate_s=ttest),
    )
    t1, t2 = phases['stage1']['seconds'], phases['stage2']['seconds']
    est1 = phases['stage1']['full_estimate_s']
    est2 = phases['stage2']['full_estimate_s']
    peaks = [v for v in tl.peak.values() if v is not None]
    totals = dict(train_test_s=t1 + tmine + t2 + ttest,
                  with_setup_s=t_setup + t1 + tmine + t2 + ttest,
                  full_estimate_s=est1 + tmine + est2 + ttest,
                  peak_mem_mib=max(peaks) if peaks else None)
    return phases, totals
