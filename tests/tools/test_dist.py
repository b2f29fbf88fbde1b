"""tools/dist_train.sh and tools/dist_test.sh: the launch command, and a
2-process (gloo, CPU) test that scores exactly like one process."""
import json
import os
import os.path as osp
import re
import socket
import stat
import subprocess
import sys

import pytest

from _helpers import REPO_ROOT, run_tool

MAP_RE = re.compile(r'(mAP@\d\.\d+|mAP_avg[\w.\-]*): (-?[\d.]+)')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_script(script, *args, env=None, timeout=600):
    return subprocess.run(['bash', osp.join(REPO_ROOT, 'tools', script),
                           *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True, env=env,
                          timeout=timeout)


def fake_python(tmp_path):
    """An interpreter stand-in that prints its arguments."""
    path = tmp_path / 'fake_python'
    path.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@"\n')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_usage_without_arguments():
    for script, n in (('dist_train.sh', 1), ('dist_test.sh', 2)):
        proc = run_script(script, *['x'] * n)
        assert proc.returncode == 2 and 'usage' in proc.stderr


def test_launch_commands(tmp_path):
    env = dict(os.environ, PYTHON=fake_python(tmp_path), PORT='29777',
               NNODES='2', NODE_RANK='1', MASTER_ADDR='10.0.0.2')
    proc = run_script('dist_train.sh', 'cfg.py', 4, '--work-dir', 'w d',
                      env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        '-m', 'torch.distributed.run', '--nnodes', '2', '--node_rank', '1',
        '--master_addr', '10.0.0.2', '--nproc_per_node', '4',
        '--master_port', '29777', osp.join(REPO_ROOT, 'tools', 'train.py'),
        'cfg.py', '--launcher', 'pytorch', '--work-dir', 'w d'
    ]
    env = dict(os.environ, PYTHON=fake_python(tmp_path))
    for key in ('PORT', 'NNODES', 'NODE_RANK', 'MASTER_ADDR'):
        env.pop(key, None)
    proc = run_script('dist_test.sh', 'cfg.py', 'ck.pth', 2, '--out', 'r',
                      env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        '-m', 'torch.distributed.run', '--nnodes', '1', '--node_rank', '0',
        '--master_addr', '127.0.0.1', '--nproc_per_node', '2',
        '--master_port', '29500', osp.join(REPO_ROOT, 'tools', 'test.py'),
        'cfg.py', 'ck.pth', '--launcher', 'pytorch', '--out', 'r'
    ]


def _maps(text):
    found = dict(MAP_RE.findall(text))
    assert 'mAP@0.10' in found and 'mAP_avg' in found, text[-3000:]
    return {k: float(v) for k, v in found.items()}


@pytest.mark.slow
def test_two_process_test_matches_one_process(tiny_run, tmp_path):
    wd = tiny_run['work_dir']
    config = osp.join(wd, 'hrpro_synthetic.py')
    ckpt = osp.join(wd, 'stage2.pth')
    common = ['--data-root', tiny_run['data_root'], '--cfg-options',
              'test_dataloader.batch_size=1']
    one = run_tool('tools/test.py', config, ckpt, '--work-dir',
                   tmp_path / 'one', '--out', tmp_path / 'one.json', *common)
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()))
    two = run_script('dist_test.sh', config, ckpt, 2, '--work-dir',
                     tmp_path / 'two', '--out', tmp_path / 'two.json',
                     *common, env=env)
    assert two.returncode == 0, two.stdout[-3000:] + two.stderr[-5000:]
    text = two.stdout + two.stderr
    assert 'Distributed training: True' in text
    m1, m2 = _maps(one.stdout + one.stderr), _maps(text)
    assert m1 == m2
    r1 = json.load(open(tmp_path / 'one.json'))['results']
    r2 = json.load(open(tmp_path / 'two.json'))['results']
    assert sorted(r1) == sorted(r2) and len(r1) == 5
    for video in r1:
        assert len(r1[video]) == len(r2[video])
        for a, b in zip(r1[video], r2[video]):
            assert a['label'] == b['label']
            assert a['segment'] == pytest.approx(b['segment'], abs=1e-5)
            assert a['score'] == pytest.approx(b['score'], abs=1e-6)
