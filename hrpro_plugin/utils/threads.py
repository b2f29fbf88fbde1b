"""How many intra-op threads torch uses in the tools.

torch sizes its intra-op pool from the CPUs it can see, which is not the
number it may use in a container with a CPU quota, and it does not know
that other processes share the cores. Two trainings on 2 shared cores,
each with a 2-thread pool whose OpenMP workers spin while they wait for a
descheduled partner, ran 3.4x slower an iteration on the default synthetic
set (and 20x at THUMOS14 scale), against 1.1x with one thread each. The
tools therefore pick the thread count themselves, say so when the machine
is already busy, and the user can override it:

* ``HRPRO_NUM_THREADS=N`` (a positive integer): N threads, always.
* ``OMP_NUM_THREADS`` set (and no ``HRPRO_NUM_THREADS``): left as torch
  read it at start-up.
* neither: the CPUs this process may run on (its affinity mask, capped by a
  cgroup CPU quota when there is one).

Waiting OpenMP workers still spin for a while before they sleep; on a
shared machine ``OMP_WAIT_POLICY=PASSIVE`` (read when torch is imported, so
it must be set in the environment) makes them sleep at once.
"""
import logging
import math
import os
from typing import Optional, Tuple

ENV_VAR = 'HRPRO_NUM_THREADS'

logger = logging.getLogger(__name__)


class ThreadConfigError(ValueError):
    """``HRPRO_NUM_THREADS`` holds something other than a positive integer."""


def _cgroup_cpu_limit(root: str = '/sys/fs/cgroup') -> Optional[float]:
    """CPUs allowed by a cgroup quota (v2 ``cpu.max``, v1 ``cfs_quota``);
    None when there is no quota or it cannot be read."""
    try:
        with open(os.path.join(root, 'cpu.max')) as f:
            quota, period = f.read().split()[:2]
        if quota != 'max' and float(period) > 0:
            return float(quota) / float(period)
        return None
    except (OSError, ValueError):
        pass
    try:
        with open(os.path.join(root, 'cpu', 'cpu.cfs_quota_us')) as f:
            quota = float(f.read().strip())
        with open(os.path.join(root, 'cpu', 'cpu.cfs_period_us')) as f:
            period = float(f.read().strip())
        if quota > 0 and period > 0:
            return quota / period
    except (OSError, ValueError):
        pass
    return None


def available_cpus(cgroup_root: str = '/sys/fs/cgroup') -> int:
    """CPUs this process may use: its affinity mask (``os.cpu_count()``
    where there is none), capped by the cgroup CPU quota; at least 1."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    limit = _cgroup_cpu_limit(cgroup_root)
    if limit is not None:
        n = min(n, max(1, math.ceil(limit)))
    return max(1, n)


def parse_thread_count(value: str, name: str = ENV_VAR) -> int:
    """``value`` as a positive integer, or :class:`ThreadConfigError`."""
    text = value.strip()
    try:
        n = int(text)
    except ValueError:
        n = None
    if n is None or n < 1:
        raise ThreadConfigError(
            f'{name}={value!r}: expected a positive integer number of torch '
            f'threads (e.g. {name}=1 on a machine shared with other jobs); '
            f'unset it to use the CPUs of this process '
            f'({available_cpus()})')
    return n


def busy_warning(threads: int, load: float, cpus: int) -> Optional[str]:
    """The line printed when other jobs already keep the CPUs busy (1-min
    load average of at least 1) and this process is about to use more than
    one thread on its own choice; None otherwise.

    Measured on 2 cores (benchmarks/cpu_sharing.py, README "Performance"):
    two trainings with 2 threads each ran 3.4x slower an iteration than
    one alone; with 1 thread each, 1.1x. The count is not lowered
    automatically: results depend on the thread count, and a run must not
    change with the load of the machine it started on.
    """
    if threads <= 1 or load < 1.0:
        return None
    return (f'note: the machine is busy (load average {load:.1f} on {cpus} '
            f'CPUs) and this run uses {threads} torch threads; when sharing '
            f'the CPUs with other jobs, {ENV_VAR}=1 is much faster for all '
            f'of them')


def configure_threads(environ=None) -> Tuple[int, str]:
    """Set torch's intra-op thread count for this process (see the module
    docstring for the rules); returns ``(threads, source)`` with source
    ``'HRPRO_NUM_THREADS'``, ``'OMP_NUM_THREADS'`` or ``'cpus'``."""
    import torch
    env = os.environ if environ is None else environ
    raw = env.get(ENV_VAR)
    if raw is not None and raw.strip():
        n, source = parse_thread_count(raw), ENV_VAR
    elif (env.get('OMP_NUM_THREADS') or '').strip():
        n, source = torch.get_num_threads(), 'OMP_NUM_THREADS'
    else:
        n, source = available_cpus(), 'cpus'
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    if source == 'cpus':
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):
            load = 0.0
        note = busy_warning(n, load, available_cpus())
        if note:
            import sys
            print(note, file=sys.stderr, flush=True)
    logger.debug('torch intra-op threads: %d (from %s; %d CPUs available)',
                 torch.get_num_threads(), source, available_cpus())
    return torch.get_num_threads(), source
