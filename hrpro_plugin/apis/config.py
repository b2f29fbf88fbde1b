"""Config resolution shared by tools/train.py, tools/test.py and tools/infer.py.

- ``--data-root``: every path of a config that lives under its ``data_root``
  is moved to another root.
- ``feat_dim`` / ``num_classes`` left ``None`` in a config are read from the
  data (feature files, class list) or from a checkpoint's ``dataset_meta``.
"""
import os.path as osp
from typing import Any, Optional


def _walk_replace(node: Any, old: str, new: str) -> Any:
    if isinstance(node, str):
        if node == old or node.startswith(old.rstrip('/') + '/'):
            return new.rstrip('/') + node[len(old.rstrip('/')):]
        return node
    if isinstance(node, dict):
        for key in list(node.keys()):
            if key == 'data_root' and isinstance(node[key], str):
                node[key] = new
            else:
                node[key] = _walk_replace(node[key], old, new)
        return node
    if isinstance(node, list):
        return [_walk_replace(v, old, new) for v in node]
    if isinstance(node, tuple):
        return tuple(_walk_replace(v, old, new) for v in node)
    return node


def apply_data_root(cfg, data_root: Optional[str]):
    """Point every path of ``cfg`` under ``cfg.data_root`` (and every
    ``data_root`` key) at ``data_root``. No-op for ``None``."""
    if data_root is None:
        return cfg
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'--data-root {data_root} is not a directory')
    old = cfg.get('data_root')
    if old is None:
        raise ValueError('--data-root needs a config that defines data_root')
    for key in list(cfg.keys()):
        if key == 'data_root':
            continue
        cfg[key] = _walk_replace(cfg[key], old, data_root)
    cfg['data_root'] = data_root
    return cfg


def _datasets(cfg):
    """(name, dataset cfg) of every dataloader in the config."""
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if loader:
            yield name, loader['dataset']
    train_cfg = cfg.get('train_cfg') or {}
    if train_cfg.get('stage2_dataloader'):
        yield 'train_cfg.stage2_dataloader', train_cfg['stage2_dataloader']['dataset']


def _feature_root(ds_cfg) -> str:
    root = ds_cfg.get('data_root') or ''
    feature_dir = ds_cfg.get('feature_dir', 'features/train')
    return feature_dir if osp.isabs(feature_dir) else osp.join(root, feature_dir)


def fill_model_dims(cfg, classes=None):
    """Fill ``feat_dim`` and ``num_classes`` where the config leaves ``None``.

    ``feat_dim``: the config's top-level ``feat_dim``, else read from the
    first feature file of the first dataset. The value is also given to every
    dataset so that data of another width fails with a clear error.
    ``num_classes``: ``len(classes)`` when given (a checkpoint's list), else
    the config's ``num_classes``, else the train dataset's class list.
    """
    from hrpro_plugin.datasets import infer_feat_dim
    feat_dim = cfg.get('feat_dim')
    datasets = list(_datasets(cfg))
    if feat_dim is None:
        for _, ds in datasets:
            if ds.get('feat_dim') is not None:
                feat_dim = ds['feat_dim']
                break
    if feat_dim is None:
        if not datasets:
            raise ValueError('feat_dim is None and the config has no dataset '
                             'to read it from')
        feat_dim = infer_feat_dim(_feature_root(datasets[0][1]))
    cfg['feat_dim'] = int(feat_dim)
    for _, ds in datasets:
        if ds.get('feat_dim') is None:
            ds['feat_dim'] = int(feat_dim)
    cfg.model['feat_dim'] = int(feat_dim)

    if classes is not None:
        num_classes = len(classes)
        if cfg.get('num_classes') not in (None, num_classes):
            raise ValueError(
                f'the checkpoint has {num_classes} classes but the config '
                f'says num_classes={cfg.num_classes}')
        for _, ds in datasets:
            meta = dict(ds.get('metainfo') or {})
            meta['classes'] = list(classes)
            ds['metainfo'] = meta
    else:
        num_classes = cfg.get('num_classes') or cfg.model.get('num_classes')
        if num_classes is None:
            from mmaction.registry import DATASETS
            import copy
            ds_cfg = copy.deepcopy(datasets[0][1])
            ds_cfg['pipeline'] = []
            num_classes = len(DATASETS.build(ds_cfg).metainfo['classes'])
    cfg['num_classes'] = int(num_classes)
    cfg.model['num_classes'] = int(num_classes)
    return cfg


def _load_checkpoint(checkpoint: str) -> dict:
    from .checkpoint import read_checkpoint
    return read_checkpoint(checkpoint)


def load_checkpoint_meta(checkpoint: str) -> dict:
    """The ``meta`` dict of a checkpoint (on CPU), with a clear error."""
    return _load_checkpoint(checkpoint).get('meta', {}) or {}


def checkpoint_feat_dim(state_dict: dict) -> Optional[int]:
    """Feature width a checkpoint was trained on (from the prototype memory,
    ``[C, D]``), or None when it has none."""
    from .checkpoint import checkpoint_feat_dim as feat_dim_of
    return feat_dim_of(state_dict)


def fill_from_checkpoint(cfg, checkpoint: str):
    """Use the class list and feature width stored in the checkpoint for
    every dataset of the config; data whose classes or width disagree then
    fails in the dataset naming the class or file. (mmengine's non-strict
    load would otherwise only log the size mismatches and test a randomly
    initialised network.) A file that is not a checkpoint raises a
    ``DataError`` naming it (:func:`~hrpro_plugin.apis.checkpoint.
    read_checkpoint`)."""
    from .checkpoint import checkpoint_dims
    _, classes, feat_dim = checkpoint_dims(checkpoint)
    if feat_dim is not None:
        if cfg.get('feat_dim') not in (None, feat_dim):
            raise ValueError(
                f'{checkpoint} was trained on {feat_dim}-d features but the '
                f'config says feat_dim={cfg.feat_dim}')
        cfg['feat_dim'] = feat_dim
    return fill_model_dims(cfg, classes=list(classes))


def add_runner_args(parser) -> None:
    """Flags shared by tools/train.py and tools/test.py (MMAction2's, plus
    ``--data-root``)."""
    from mmengine.config import DictAction
    parser.add_argument('--data-root', help='dataset root replacing the '
                        "config's data_root in every path")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def apply_runner_args(cfg, args):
    """Launcher, ``--cfg-options``, ``--data-root`` and the work dir (CLI >
    config > ``work_dirs/<config name>``), in that order."""
    import os
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    apply_data_root(cfg, args.data_root)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def close_distributed() -> None:
    """Wait for every process, then tear the process group down. mmengine
    never destroys it; a gloo process that exits while another still writes
    its checkpoint can then abort ("terminate called without an active
    exception"), failing a run that has finished."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
