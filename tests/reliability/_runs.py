"""Helpers of the reliability tests: configs that add RNGStateHook and the
test-only hooks of _kill_hook.py, tool runs, checkpoint comparison."""
import os
import os.path as osp

import torch

from _helpers import (REPO_ROOT, TINY_MODEL_OPTIONS, TINY_TRAIN_OPTIONS,
                      load_script, run_tool)

HERE = osp.dirname(osp.abspath(__file__))

# TINY_TRAIN_OPTIONS with a checkpoint every 4 iterations (stage 1: 4, 8, 12;
# stage 2, 3 batches an epoch: 16, 18 = the last) and the logger every 2.
RESUME_OPTIONS = [o for o in TINY_TRAIN_OPTIONS
                  if not o.startswith(('default_hooks.checkpoint.interval',
                                       'default_hooks.logger.interval'))] + [
    'default_hooks.checkpoint.interval=4', 'default_hooks.logger.interval=2']

# tools/test.py runs in the test process, where _kill_hook is not importable
# under that name: test with the plain config (hooks play no part in testing)
TEST_CONFIG = 'configs/hrpro_synthetic.py'


def tool_env():
    """Environment of the tool subprocesses: tests/reliability importable
    (for custom_imports of _kill_hook)."""
    env = dict(os.environ)
    # one thread: half the CPU time of two on the small tensors here; runs
    # compared bit for bit must use the same thread count anyway
    env['OMP_NUM_THREADS'] = '1'
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (HERE, REPO_ROOT, env.get('PYTHONPATH')) if p)
    return env


def write_config(path, base='configs/hrpro_synthetic.py', hooks=()):
    """A config inheriting ``base`` whose custom_hooks are the base ones,
    plus RNGStateHook unless the base registers it already (as a default or
    custom hook), plus ``hooks`` (dicts); it imports hrpro_plugin, the hook
    module and _kill_hook."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO_ROOT, base))
    custom = [dict(h) for h in cfg.get('custom_hooks', [])]
    registered = [h.get('type') for h in custom] + [
        h.get('type') for h in (cfg.get('default_hooks') or {}).values()
        if h is not None]
    if 'RNGStateHook' not in registered:
        custom.append(dict(type='RNGStateHook'))
    text = (
        f"_base_ = [{osp.join(REPO_ROOT, base)!r}]\n"
        "custom_imports = dict(imports=['hrpro_plugin', "
        "'hrpro_plugin.engine.hooks.rng_state_hook', '_kill_hook'], "
        "allow_failed_imports=False)\n"
        f"custom_hooks = {custom + list(hooks)!r}\n")
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


def train(config, data_root, work_dir, *extra, options=RESUME_OPTIONS,
          check=True):
    return run_tool('tools/train.py', config, '--data-root', data_root,
                    '--work-dir', work_dir, '--deterministic', '--seed', '0',
                    *extra, '--cfg-options', *options, check=check,
                    env=tool_env())


def run_test_tool(config, checkpoint, data_root, work_dir, out):
    """tools/test.py (in this process); returns (metrics dict as printed,
    results JSON text)."""
    metrics = run_test_py_in_process(config, checkpoint, '--data-root',
                                     data_root, '--work-dir', work_dir,
                                     '--out', out, '--cfg-options',
                                     *TINY_MODEL_OPTIONS)
    with open(out) as f:
        return dict(metrics), f.read()


def state_dict(path):
    ckpt = torch.load(path, map_location='cpu', weights_only=False)
    return ckpt['state_dict']


def assert_same_state(path_a, path_b):
    a, b = state_dict(path_a), state_dict(path_b)
    assert a.keys() == b.keys()
    differ = [k for k in a if not torch.equal(a[k], b[k])]
    assert not differ, f'{len(differ)} tensors differ, e.g. {differ[:5]}'


def run_test_py_in_process(*argv):
    """Run tools/test.py's ``main`` in this process (saves the 3 s of
    imports of a subprocess); returns its metrics dict. Exceptions propagate
    as they would end the tool."""
    module = load_script('tools/test.py', '_hrpro_test_tool')
    return module.main([str(a) for a in argv])
