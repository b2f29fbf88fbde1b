"""What the benchmark ran on: CPU name and cores, peak memory, load."""
import os
import resource
from typing import Optional


def cpu_count() -> int:
    """Cores this process may run on (``nproc``)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


def cpu_name() -> str:
    model = 'unknown CPU'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.lower().startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return f'{model}, {cpu_count()} cores (nproc)'


def peak_rss_mib() -> float:
    """The process's peak resident memory so far (MiB)."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kb / 1024.0


def load_average() -> Optional[float]:
    """The 1-minute load average, or None where the OS has none."""
    return os.getloadavg()[0] if hasattr(os, 'getloadavg') else None
