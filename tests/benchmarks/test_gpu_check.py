"""``benchmarks/gpu_check.py``: the dry run (CPU, tiny sizes) passes every
step and writes the report; a failed step is recorded without stopping the
others; the JUnit and progress parsers."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from _helpers import REPO_ROOT, load_script

STEPS = ['env', 'cuda_tests', 'data', 'speed', 'speed_amp']
PHASES = ['setup', 'stage1', 'mining', 'stage2', 'test']


def _run(*args, timeout=300):
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    return subprocess.run(
        [sys.executable, 'benchmarks/gpu_check.py', *map(str, args)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=timeout)


def _cuda_test_count():
    """Test functions (parametrized cases counted) under tests/cuda."""
    import ast
    n = 0
    folder = osp.join(REPO_ROOT, 'tests', 'cuda')
    for name in os.listdir(folder):
        if not name.startswith('test_') or not name.endswith('.py'):
            continue
        tree = ast.parse(open(osp.join(folder, name)).read())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and \
                    node.name.startswith('test_'):
                cases = 1
                for dec in node.decorator_list:
                    if isinstance(dec, ast.Call) and \
                            getattr(dec.func, 'attr', '') == 'parametrize':
                        cases *= len(dec.args[1].elts)
                n += cases
    return n


@pytest.mark.slow
def test_dry_run_passes_and_writes_the_report(tmp_path):
    proc = _run('--dry-run', '--out', tmp_path)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    with open(tmp_path / 'report.json') as f:
        rep = json.load(f)
    assert rep['ok'] is True and rep['dry_run'] is True
    assert rep['failed_steps'] == []
    for key in ('device_name', 'torch_version', 'cuda_version', 'env',
                'steps', 'tests', 'speed', 'wall_s', 'command'):
        assert key in rep, key
    assert rep['device_name'] == 'cpu'
    assert rep['torch_version'] and rep['env']['cuda_available'] is False
    assert rep['env']['import_errors'] == {}
    assert list(rep['steps']) == STEPS
    for name, step in rep['steps'].items():
        assert step['status'] == 'passed', (name, step.get('error'))
        assert step['error'] is None
        assert step['seconds'] >= 0
    # every cuda-marked test ran (on CPU tensors) and passed
    tests = rep['tests']
    assert tests['device'] == 'cpu'
    assert tests['total'] == _cuda_test_count() >= 20
    assert tests['passed'] == tests['total']
    assert tests['failed'] == tests['errors'] == tests['skipped'] == 0
    # both speed runs: each phase timed, peak memory, mAP, the table
    assert set(rep['speed']) == {'fp32', 'amp'}
    for key, s in rep['speed'].items():
        assert s['device'] == 'cpu' and s['feat_dim'] == 16
        assert s['amp'] is (key == 'amp') and s['bf16_active'] is False
        assert list(s['phases']) == PHASES
        for name in PHASES:
            assert s['phases'][name]['seconds'] > 0, (key, name)
            assert s['phases'][name]['peak_mem_mib'] > 0, (key, name)
        assert s['schedule']['stage1_iters'] == 2
        assert s['schedule']['stage2_epochs'] == 1
        assert 0 <= s['mAP']['avg'] <= 100
        assert s['peak_mem_mib'] > 0
        assert 'stage-1 train' in s['table'] and 'mining' in s['table']
        assert s['target']['meets_target'] is None   # not a full CUDA run
        assert osp.isfile(s['speed_json'])
    assert s['mAP'] == rep['speed']['fp32']['mAP']   # --amp: no-op on cpu
    assert rep['speed']['fp32']['proposal_bench']['candidates'][
        'same_outputs'] is True
    assert '==== speed (fp32) ====' in proc.stdout
    assert 'overall: PASSED' in proc.stdout


def test_a_failed_step_is_recorded_and_the_others_run(tmp_path):
    proc = _run('--dry-run', '--out', tmp_path, '--skip', 'speed',
                '--skip', 'speed_amp', '--timeout', 'cuda_tests=0.5',
                timeout=120)
    assert proc.returncode == 1, (proc.stdout + proc.stderr)[-4000:]
    with open(tmp_path / 'report.json') as f:
        rep = json.load(f)
    steps = rep['steps']
    assert steps['env']['status'] == 'passed'
    assert steps['cuda_tests']['status'] == 'timeout'
    assert 'timed out after' in steps['cuda_tests']['error']
    assert steps['data']['status'] == 'passed'          # ran after it
    assert steps['speed']['status'] == steps['speed_amp']['status'] == \
        'skipped'
    assert rep['failed_steps'] == ['cuda_tests'] and rep['ok'] is False
    assert osp.isfile(steps['cuda_tests']['log'])
    assert 'overall: FAILED' in proc.stdout


def test_unknown_timeout_step_is_an_error(tmp_path):
    proc = _run('--dry-run', '--out', tmp_path, '--timeout', 'nope=3',
                timeout=60)
    assert proc.returncode != 0
    assert "unknown step 'nope'" in proc.stderr


def test_junit_and_progress_parsers(tmp_path):
    gc = load_script('benchmarks/gpu_check.py', 'gpu_check_parsers')
    xml = tmp_path / 'r.xml'
    xml.write_text(
        '<?xml version="1.0"?><testsuites><testsuite name="pytest">'
        '<testcase classname="a" name="t1" time="0.5"/>'
        '<testcase classname="a" name="t2" time="0.25">'
        '<failure message="assert 1 == 2">x</failure></testcase>'
        '<testcase classname="b" name="t3" time="0"><error message="boom"/>'
        '</testcase><testcase classname="b" name="t4" time="0">'
        '<skipped message="no"/></testcase></testsuite></testsuites>')
    out = gc.parse_junit(str(xml))
    assert (out['total'], out['passed'], out['failed'], out['errors'],
            out['skipped']) == (4, 1, 1, 1, 1)
    assert out['seconds'] == 0.75
    assert out['failures'] == ['a::t2: assert 1 == 2', 'b::t3 (error): boom']
    text = ('[speed] train_start (+3.2 s)\n'
            '12/02 - mmengine - INFO - Iter(train) [  20/1000]  lr: 1e-4  '
            'eta: 0:01:10  time: 0.0712  data_time: 0.0011\n'
            '12/02 - mmengine - INFO - Iter(train) [  40/1000]  lr: 1e-4  '
            'eta: 0:01:08  time: 0.0705  data_time: 0.0010\n'
            '[speed] stage1_first_iter (+4.0 s)\n')
    prog = gc.speed_progress(text)
    assert prog['marks'] == {'train_start': 3.2, 'stage1_first_iter': 4.0}
    assert (prog['last_iter'], prog['total_iters']) == (40, 1000)
    assert prog['last_iter_time_s'] == pytest.approx(0.0705)
