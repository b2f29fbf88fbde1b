"""Workarounds for defects of the released OpenMMLab packages.

Each function fixes one upstream defect, names it, and is applied once by
:func:`apply_all` when :mod:`hrpro_plugin` is imported. Each has a test in
``tests/test_compat.py`` that checks the behaviour it restores.
"""
import os
import os.path as osp
import sys
import types

import torch

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


def apply_all() -> None:
    """Apply every workaround once (idempotent)."""
    global _APPLIED
    if _APPLIED:
        return
    patch_missing_drn_module()
    patch_checkpoint_loading()
    patch_cpu_distributed()
    _APPLIED = True
