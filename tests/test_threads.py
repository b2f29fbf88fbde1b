"""hrpro_plugin.utils.threads: which thread count the tools give torch, and
the error for a bad HRPRO_NUM_THREADS."""
import logging
import os

import pytest
import torch

from hrpro_plugin.apis.cli import run_cli
from hrpro_plugin.utils.threads import (ThreadConfigError, _cgroup_cpu_limit,
                                        available_cpus, configure_threads,
                                        parse_thread_count)


@pytest.fixture(autouse=True)
def _restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_hrpro_num_threads_is_honoured():
    torch.set_num_threads(2)
    assert configure_threads({'HRPRO_NUM_THREADS': '1'}) == \
        (1, 'HRPRO_NUM_THREADS')
    assert torch.get_num_threads() == 1
    # it wins over OMP_NUM_THREADS, surrounding spaces allowed
    assert configure_threads({'HRPRO_NUM_THREADS': ' 2 ',
                              'OMP_NUM_THREADS': '1'}) == \
        (2, 'HRPRO_NUM_THREADS')
    assert torch.get_num_threads() == 2


def test_omp_num_threads_leaves_torch_alone():
    torch.set_num_threads(1)
    assert configure_threads({'OMP_NUM_THREADS': '4'}) == \
        (1, 'OMP_NUM_THREADS')
    assert torch.get_num_threads() == 1
    # an empty HRPRO_NUM_THREADS counts as unset
    assert configure_threads({'HRPRO_NUM_THREADS': '',
                              'OMP_NUM_THREADS': '4'}) == \
        (1, 'OMP_NUM_THREADS')


def test_default_is_the_cpus_of_this_process():
    torch.set_num_threads(1)
    n, source = configure_threads({})
    assert source == 'cpus'
    assert n == available_cpus() == torch.get_num_threads()
    assert 1 <= n <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize('value', ['0', '-2', 'abc', '1.5', '2 threads'])
def test_invalid_value_gives_a_clear_error(value):
    torch.set_num_threads(1)
    with pytest.raises(ThreadConfigError) as info:
        configure_threads({'HRPRO_NUM_THREADS': value})
    msg = str(info.value)
    assert f'HRPRO_NUM_THREADS={value!r}' in msg
    assert 'positive integer' in msg
    assert isinstance(info.value, ValueError)
    assert torch.get_num_threads() == 1          # nothing was changed


def test_parse_thread_count():
    assert parse_thread_count('8') == 8
    with pytest.raises(ThreadConfigError, match='X=.0.'):
        parse_thread_count('0', name='X')


def test_cgroup_quota_caps_the_count(tmp_path):
    v2 = tmp_path / 'v2'
    v2.mkdir()
    (v2 / 'cpu.max').write_text('150000 100000\n')     # 1.5 CPUs
    assert _cgroup_cpu_limit(str(v2)) == pytest.approx(1.5)
    assert available_cpus(str(v2)) == min(2, len(os.sched_getaffinity(0)))
    (v2 / 'cpu.max').write_text('50000 100000\n')      # half a CPU: 1
    assert available_cpus(str(v2)) == 1
    (v2 / 'cpu.max').write_text('max 100000\n')        # no quota
    assert _cgroup_cpu_limit(str(v2)) is None
    assert available_cpus(str(v2)) == len(os.sched_getaffinity(0))
    v1 = tmp_path / 'v1'
    (v1 / 'cpu').mkdir(parents=True)
    (v1 / 'cpu' / 'cpu.cfs_quota_us').write_text('300000\n')
    (v1 / 'cpu' / 'cpu.cfs_period_us').write_text('100000\n')
    assert _cgroup_cpu_limit(str(v1)) == pytest.approx(3.0)
    (v1 / 'cpu' / 'cpu.cfs_quota_us').write_text('-1\n')   # unlimited
    assert _cgroup_cpu_limit(str(v1)) is None
    assert _cgroup_cpu_limit(str(tmp_path / 'missing')) is None


def test_run_cli_sets_threads_before_main(monkeypatch, caplog):
    monkeypatch.setenv('HRPRO_NUM_THREADS', '1')
    monkeypatch.delenv('HRPRO_DEBUG', raising=False)
    torch.set_num_threads(2)
    seen = []
    with caplog.at_level(logging.DEBUG, logger='hrpro_plugin.utils.threads'):
        run_cli(lambda: seen.append(torch.get_num_threads()))
    assert seen == [1]
    assert any('torch intra-op threads: 1 (from HRPRO_NUM_THREADS'
               in r.getMessage() for r in caplog.records)


def test_run_cli_reports_a_bad_value_as_one_line(monkeypatch):
    monkeypatch.setenv('HRPRO_NUM_THREADS', 'many')
    monkeypatch.delenv('HRPRO_DEBUG', raising=False)
    called = []
    with pytest.raises(SystemExit) as info:
        run_cli(lambda: called.append(1))
    assert called == []
    assert str(info.value).startswith("error: HRPRO_NUM_THREADS='many': "
                                      'expected a positive integer')
    monkeypatch.setenv('HRPRO_DEBUG', '1')           # traceback instead
    with pytest.raises(ThreadConfigError):
        run_cli(lambda: None)


def test_busy_machine_note_only_when_loaded_and_multithreaded():
    from hrpro_plugin.utils.threads import busy_warning
    assert busy_warning(2, 0.4, 2) is None        # idle machine
    assert busy_warning(1, 3.0, 2) is None        # already one thread
    note = busy_warning(2, 1.9, 2)
    assert note == ('note: the machine is busy (load average 1.9 on 2 CPUs) '
                    'and this run uses 2 torch threads; when sharing the '
                    'CPUs with other jobs, HRPRO_NUM_THREADS=1 is much '
                    'faster for all of them')
