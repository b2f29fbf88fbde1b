"""Helpers shared by tests (importable: pytest.ini puts tests/ on sys.path)."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


# the tiny model: also needed to test its checkpoints (strict loading)
TINY_MODEL_OPTIONS = [
    'model.instance_head.hidden_score=[64,32]', 'model.instance_head.hidden_reg=32',
]
TINY_TRAIN_OPTIONS = [
    'train_cfg.stage1_iters=12', 'train_cfg.stage2_epochs=2',
    'train_dataloader.batch_size=4', 'train_cfg.stage2_dataloader.batch_size=4',
    'default_hooks.logger.interval=4', 'default_hooks.checkpoint.interval=6',
] + TINY_MODEL_OPTIONS


def make_tiny_dataset(out_dir, seed=0, feat_dim=16):
    """3 classes, 10 train / 5 test short videos, 16-d features."""
    from hrpro_plugin.synthetic import VideoLayout, generate_dataset
    generate_dataset(str(out_dir), num_classes=3, num_train=10, num_test=5,
                     feat_dim=feat_dim, seed=seed,
                     layout=VideoLayout(mean_snippets=40.0), log=None)
    return str(out_dir)


def load_script(rel_path, name):
    """Import ``REPO_ROOT/rel_path`` (a script outside the package, e.g.
    ``tools/infer.py``, or a folder: then it is loaded as a package from its
    ``__init__.py``, e.g. ``hrpro_plugin/synthetic`` without running
    ``hrpro_plugin/__init__.py``) as module ``name`` (registered in
    ``sys.modules``, which dataclasses and pickling need)."""
    path = osp.join(REPO_ROOT, rel_path)
    if osp.isdir(path):
        spec = importlib.util.spec_from_file_location(
            name, osp.join(path, '__init__.py'),
            submodule_search_locations=[path])
    else:
        spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_synthetic():
    """``hrpro_plugin/synthetic`` loaded by path (numpy only: neither torch
    nor OpenMMLab is imported), once a process."""
    name = '_test_hrpro_synthetic'
    return sys.modules.get(name) or load_script('hrpro_plugin/synthetic',
                                                name)


def tree_files(root):
    """Paths of the files under ``root``, relative to it, sorted."""
    out = []
    for dirpath, _, names in os.walk(root):
        for n in names:
            out.append(osp.relpath(osp.join(dirpath, n), root))
    return sorted(out)


def run_tool(*args, timeout=600, check=True, env=None):
    """Run ``python tools/<args>`` from the repo root; returns the process."""
    cmd = [sys.executable] + [str(a) for a in args]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(
            f'{" ".join(cmd)} failed ({proc.returncode}):\n'
            f'{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}')
    return proc


