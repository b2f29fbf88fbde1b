"""Workarounds for defects of the released OpenMMLab packages.

Each function fixes one upstream defect, names it, and is applied once by
:func:`apply_all` when :mod:`hrpro_plugin` is imported. Each has a test in
``tests/test_compat.py`` that checks the behaviour it restores.
"""
import os
import os.path as osp
import re
import sys
import types

import torch

from .fileio.atomic import atomic_write_bytes

_APPLIED = False


def patch_missing_drn_module() -> None:
    """mmaction2 1.2.0's wheel and sdist omit ``mmaction/models/localizers/drn``
    (upstream issue open-mmlab/mmaction2#2714: the folder has no
    ``__init__.py``), so ``import mmaction.models`` and
    ``register_all_modules()`` raise ModuleNotFoundError. We put a stub
    module in ``sys.modules`` before ``mmaction.models`` is imported. DRN
    (a natural-language grounding model) is unrelated to this plugin; the
    stub raises a clear error if someone tries to build it.
    """
    pkg_name = 'mmaction.models.localizers.drn'
    mod_name = pkg_name + '.drn'
    if mod_name in sys.modules:
        return
    try:  # a fixed release (or a source install) ships the real module
        import importlib.util
        if importlib.util.find_spec('mmaction') is not None:
            import mmaction
            real = osp.join(
                osp.dirname(mmaction.__file__), 'models', 'localizers', 'drn',
                'drn.py')
            if osp.exists(real):
                return
    except Exception:  # pragma: no cover - mmaction absent: nothing to fix
        return

    class DRN:  # noqa: D401 - placeholder
        """Placeholder for mmaction2's DRN, missing from the 1.2.0 wheel."""

        def __init__(self, *args, **kwargs):
            raise ImportError(
                'mmaction2 1.2.0 was released without '
                'mmaction/models/localizers/drn (mmaction2 issue #2714); '
                'hrpro_plugin installs a stub so that the rest of mmaction '
                'imports. Install mmaction2 from source to use DRN.')

    pkg = types.ModuleType(pkg_name)
    pkg.__path__ = []  # a package, so `from .drn.drn import DRN` resolves
    mod = types.ModuleType(mod_name)
    mod.DRN = DRN
    pkg.drn = mod
    sys.modules[pkg_name] = pkg
    sys.modules[mod_name] = mod


def patch_checkpoint_loading() -> None:
    """torch >= 2.6 defaults ``torch.load(weights_only=True)``; mmengine
    0.10.7 checkpoints pickle ``HistoryBuffer`` and numpy objects in
    ``message_hub``, so ``--resume`` and ``load_from`` fail with
    ``UnpicklingError: Weights only load failed`` (mmengine issue #1655).
    We re-register mmengine's loader for local paths with
    ``weights_only=False``. Only use checkpoints you trust: loading a pickle
    runs code, as it did before torch 2.6.
    """
    from mmengine.runner.checkpoint import CheckpointLoader

    def load_from_local(filename, map_location):
        filename = osp.expanduser(filename)
        if not osp.isfile(filename):
            raise FileNotFoundError(f'{filename} can not be found.')
        return torch.load(
            filename, map_location=map_location, weights_only=False)

    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)


def patch_cpu_distributed() -> None:
    """``--launcher pytorch`` without CUDA: mmengine 0.10.7 calls
    ``torch.cuda.set_device`` in ``_init_dist_pytorch`` and passes
    ``device_ids=[LOCAL_RANK]`` to DDP in ``Runner.wrap_model``; both fail on
    a CPU-only machine. When CUDA is absent we initialise a ``gloo`` group and
    wrap the model without ``device_ids``. With CUDA the stock path runs
    unchanged.
    """
    import mmengine.dist.utils as dist_utils
    from mmengine.runner import Runner

    if getattr(dist_utils._init_dist_pytorch, '_hrpro_patched', False):
        return
    stock_init = dist_utils._init_dist_pytorch

    def _init_dist_pytorch(backend, init_backend='torch', **kwargs):
        if torch.cuda.is_available():
            return stock_init(backend, init_backend=init_backend, **kwargs)
        import torch.distributed as torch_dist
        torch_dist.init_process_group(
            backend='gloo',
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']),
            **kwargs)

    _init_dist_pytorch._hrpro_patched = True
    dist_utils._init_dist_pytorch = _init_dist_pytorch

    stock_wrap = Runner.wrap_model

    def wrap_model(self, model_wrapper_cfg, model):
        if torch.cuda.is_available() or not self.distributed:
            return stock_wrap(self, model_wrapper_cfg, model)
        from mmengine.model import MMDistributedDataParallel, is_model_wrapper
        if is_model_wrapper(model):
            return model
        cfg = dict(model_wrapper_cfg or {})
        cfg.pop('type', None)
        cfg.setdefault('broadcast_buffers', False)
        cfg.setdefault('find_unused_parameters',
                       self.cfg.get('find_unused_parameters', False))
        return MMDistributedDataParallel(module=model, **cfg)

    Runner.wrap_model = wrap_model


def patch_atomic_checkpoint_write() -> None:
    """mmengine 0.10.7 writes checkpoints in place: ``save_checkpoint``
    (``mmengine/runner/checkpoint.py``) serialises the checkpoint to memory
    and hands the bytes to ``LocalBackend.put``
    (``mmengine/fileio/backends/local_backend.py``), which opens the final
    path with ``'wb'`` (truncating any checkpoint of that name) and writes.
    A kill, a full disk or an I/O error midway leaves a truncated file under
    the final name, and a re-saved name (``stage1.pth``, ``stage2.pth``,
    ``iter_N.pth`` of a resumed run) loses the good checkpoint it had.
    We make ``LocalBackend.put``, the one point every local checkpoint write
    goes through, atomic (the package's one atomic writer,
    :func:`hrpro_plugin.fileio.atomic_write_bytes`). ``CheckpointHook``
    writes the ``last_checkpoint`` pointer only after
    ``Runner.save_checkpoint`` returns, i.e. after the rename, so the
    pointer never names a partial file. Other backends (petrel, http) are
    untouched.
    """
    from mmengine.fileio.backends import LocalBackend

    if getattr(LocalBackend.put, '_hrpro_patched', False):
        return
    stock_put = LocalBackend.put

    def put(self, obj: bytes, filepath) -> None:
        atomic_write_bytes(obj, filepath)

    put.__doc__ = stock_put.__doc__
    put._hrpro_patched = True
    put._hrpro_stock = stock_put
    LocalBackend.put = put


_STEP_CKPT = re.compile(r'^(iter|epoch)_(\d+)\.pth$')


def newest_step_checkpoint(work_dir: str):
    """The ``iter_<N>.pth`` with the largest N in ``work_dir`` (else the
    largest ``epoch_<N>.pth``), or ``None``."""
    if not osp.isdir(work_dir):
        return None
    found = []
    for name in os.listdir(work_dir):
        m = _STEP_CKPT.match(name)
        if m and osp.isfile(osp.join(work_dir, name)):
            found.append((m.group(1) == 'iter', int(m.group(2)), name))
    if not found:
        return None
    return osp.join(work_dir, max(found)[2])


def patch_find_latest_checkpoint() -> None:
    """``--resume`` without a path reads ``<work_dir>/last_checkpoint``
    (``mmengine.runner.checkpoint.find_latest_checkpoint``). mmengine 0.10.7
    trusts it blindly: ``CheckpointHook`` rewrites it in place (``open(...,
    'w')``), so a kill at that moment leaves it empty, and resume then fails
    with ``FileNotFoundError: '' can not be found``; a pointer to a deleted
    file fails the same way; a kill between the first checkpoint and its
    pointer makes ``--resume`` silently start from scratch. We return the
    pointer when it names an existing file (or a remote URI), else fall back
    to the newest ``iter_<N>.pth`` / ``epoch_<N>.pth`` of the work dir, with
    a warning.
    """
    import mmengine.runner as runner_pkg
    import mmengine.runner.checkpoint as ckpt_mod
    import mmengine.runner.runner as runner_mod

    if getattr(ckpt_mod.find_latest_checkpoint, '_hrpro_patched', False):
        return

    def find_latest_checkpoint(path: str):
        from mmengine.logging import print_log
        save_file = osp.join(path, 'last_checkpoint')
        last = None
        if osp.exists(save_file):
            with open(save_file) as f:
                last = f.read().strip()
            if last and ('://' in last or osp.isfile(last)):
                return last
        fallback = newest_step_checkpoint(path)
        if last is None:
            why = f'no {save_file}'
        elif not last:
            why = f'{save_file} is empty'
        else:
            why = f'{save_file} names {last}, which does not exist'
        if fallback is not None:
            print_log(f'{why}: resuming from the newest checkpoint of the '
                      f'work dir, {fallback}', logger='current', level=30)
        else:
            print_log(f'{why} and no iter_*.pth / epoch_*.pth in {path}: '
                      'nothing to resume from', logger='current', level=30)
        return fallback

    find_latest_checkpoint._hrpro_patched = True
    ckpt_mod.find_latest_checkpoint = find_latest_checkpoint
    runner_mod.find_latest_checkpoint = find_latest_checkpoint
    runner_pkg.find_latest_checkpoint = find_latest_checkpoint
    flex = sys.modules.get('mmengine.runner._flexible_runner')
    if flex is not None and hasattr(flex, 'find_latest_checkpoint'):
        flex.find_latest_checkpoint = find_latest_checkpoint


def apply_all() -> None:
    """Apply every workaround once (idempotent)."""
    global _APPLIED
    if _APPLIED:
        return
    patch_missing_drn_module()
    patch_checkpoint_loading()
    patch_cpu_distributed()
    patch_atomic_checkpoint_write()
    patch_find_latest_checkpoint()
    _APPLIED = True
