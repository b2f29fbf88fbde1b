"""Inference on snippet features without annotation files (like
``mmaction.apis.init_recognizer`` / ``inference_recognizer``).

    from hrpro_plugin.apis import init_localizer, inference_localizer
    model = init_localizer('configs/hrpro_thumos14.py', 'stage2.pth', 'cpu')
    results = inference_localizer(model, 'features/test')   # folder or .npy
    results[0]  # dict(video, segments [M, 2] s, labels [M], scores [M],
                #      label_names, num_snippets, duration, snippet_seconds)

The class list comes from the checkpoint (``meta.dataset_meta.classes``,
written by ``tools/train.py``); ``num_classes`` and ``feat_dim`` are taken
from the checkpoint as well, so a config that leaves them ``None`` works
without any dataset.
"""
import copy
import glob
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch

__all__ = [
    'init_localizer', 'inference_localizer', 'collect_feature_files',
    'load_features', 'config_snippet_seconds', 'localizer_outputs'
]

FeatureInput = Union[str, np.ndarray, torch.Tensor]


# --------------------------------------------------------------------------
# model
# --------------------------------------------------------------------------
def _checkpoint_dims(checkpoint: str) -> Tuple[List[str], Optional[int],
                                               Optional[int]]:
    """(classes, num_classes, feat_dim) stored in a checkpoint. ``feat_dim``
    is read from the prototype memory ``[C, D]``. The loader and its errors
    are those of ``tools/test.py`` (:mod:`hrpro_plugin.apis.checkpoint`)."""
    from .checkpoint import checkpoint_dims
    _, classes, feat_dim = checkpoint_dims(checkpoint)
    return classes, len(classes), feat_dim


def init_localizer(config,
                   checkpoint: str,
                   device: Union[str, torch.device] = 'cpu',
                   cfg_options: Optional[dict] = None):
    """Build an HR-Pro model from a config and load a checkpoint.

    Args:
        config (str | Config): config file or object. ``feat_dim`` and
            ``num_classes`` may be ``None``: they are read from the
            checkpoint. The model part must match the checkpoint (use the
            config saved in the training work dir, or ``cfg_options``).
        checkpoint (str): a checkpoint written by ``tools/train.py``.
        device: ``'cpu'``, ``'cuda'``, ``'cuda:1'``, ...
        cfg_options (dict, optional): overrides merged into the config.

    Returns:
        The model in eval mode on ``device``, with ``model.cfg`` (the
        resolved config) and ``model.dataset_meta = dict(classes=[...])``.
    """
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint

    import hrpro_plugin  # noqa: F401  (registers the parts, applies compat)
    from mmaction.registry import MODELS

    if isinstance(config, (str, bytes)) or hasattr(config, '__fspath__'):
        if not osp.isfile(config):
            raise FileNotFoundError(f'config file {config} not found')
        cfg = Config.fromfile(config)
    elif isinstance(config, Config):
        cfg = copy.deepcopy(config)
    else:
        raise TypeError('config must be a path or a mmengine Config, got '
                        f'{type(config).__name__}')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    classes, num_classes, ckpt_dim = _checkpoint_dims(checkpoint)

    for key, value in (('num_classes', num_classes), ('feat_dim', ckpt_dim)):
        given = cfg.model.get(key)
        if given is None:
            given = cfg.get(key)
        if value is None:
            value = given
        elif given is not None and int(given) != int(value):
            raise ValueError(
                f'the config says {key}={given} but the checkpoint '
                f'{checkpoint} was trained with {key}={value}')
        if value is None:
            raise ValueError(f'{key} is neither in the config nor in the '
                             f'checkpoint {checkpoint}')
        cfg.model[key] = int(value)
        cfg[key] = int(value)

    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model = MODELS.build(cfg.model)
    try:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True,
                        logger='silent')
    except RuntimeError as err:
        raise RuntimeError(
            f'{checkpoint} does not fit the model of the config ({err}). '
            'Use the config saved in the training work dir (it holds the '
            '--cfg-options of that run) or pass the same --cfg-options.'
        ) from None
    model.cfg = cfg
    model.dataset_meta = dict(classes=list(classes))
    model.to(device)
    model.eval()
    return model


# --------------------------------------------------------------------------
# features
# --------------------------------------------------------------------------
def collect_feature_files(path: str) -> List[Tuple[str, List[str]]]:
    """Videos under ``path``: ``[(video_name, [file, ...]), ...]`` sorted
    by name.

    ``path`` is one ``.npy`` file, a folder of ``<video>.npy``, or a folder
    with ``rgb/`` and ``flow/`` sub-folders (the two files of a video are
    concatenated rgb first).
    """
    path = osp.expanduser(str(path))
    if not osp.exists(path):
        raise FileNotFoundError(f'feature path {path} does not exist')
    if osp.isfile(path):
        if not path.endswith('.npy'):
            raise ValueError(f'{path} is not a .npy feature file')
        return [(osp.splitext(osp.basename(path))[0], [path])]
    rgb, flow = osp.join(path, 'rgb'), osp.join(path, 'flow')
    if osp.isdir(rgb) and osp.isdir(flow):
        names = sorted(
            osp.splitext(osp.basename(p))[0]
            for p in glob.glob(osp.join(rgb, '*.npy')))
        if not names:
            raise FileNotFoundError(f'no .npy file in {rgb}')
        missing = [n for n in names
                   if not osp.isfile(osp.join(flow, n + '.npy'))]
        if missing:
            raise FileNotFoundError(
                f'{flow}: no flow features for {len(missing)} video(s) with '
                f'rgb features: {", ".join(missing[:10])}')
        return [(n, [osp.join(rgb, n + '.npy'), osp.join(flow, n + '.npy')])
                for n in names]
    files = sorted(glob.glob(osp.join(path, '*.npy')))
    if not files:
        raise FileNotFoundError(
            f'no .npy feature file in {path} (expected <video>.npy files '
            'or rgb/ and flow/ sub-folders)')
    return [(osp.splitext(osp.basename(p))[0], [p]) for p in files]


def _check_array(arr, where: str) -> np.ndarray:
    """An in-memory ``[T, D]`` array through the shared feature checks
    (:func:`~hrpro_plugin.datasets.parsers.features.check_feature_array`,
    then
    finite values)."""
    from ..datasets.parsers.features import (check_feature_array,
                                             check_features_finite)
    arr = np.asarray(arr)
    check_feature_array(arr.shape, arr.dtype, where)
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    check_features_finite(arr, where)
    return arr


def load_features(paths: Sequence[str]) -> np.ndarray:
    """Read one video's ``.npy`` file(s) (concatenated along D) with the
    dataset's checks (:func:`~hrpro_plugin.datasets.parsers.features.
    load_feature_file`); errors name the file."""
    from ..datasets.parsers.errors import DataError
    from ..datasets.parsers.features import load_feature_file
    parts = [load_feature_file(p) for p in paths]
    if len({a.shape[0] for a in parts}) > 1:
        raise DataError('rgb and flow features have different lengths: ' +
                        ', '.join(f'{p} has T={a.shape[0]}'
                                  for p, a in zip(paths, parts)))
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


def _normalise_inputs(inputs) -> List[Tuple[str, Union[List[str],
                                                        np.ndarray]]]:
    """-> [(video, paths or array)]"""
    if isinstance(inputs, (str, bytes)) or hasattr(inputs, '__fspath__'):
        return collect_feature_files(str(inputs))
    if isinstance(inputs, (np.ndarray, torch.Tensor)):
        return [('video_0', inputs)]
    if isinstance(inputs, Mapping):
        return [(str(k), v) for k, v in inputs.items()]
    out = []
    for i, item in enumerate(inputs):
        if isinstance(item, (str, bytes)) or hasattr(item, '__fspath__'):
            out.extend(collect_feature_files(str(item)))
        elif isinstance(item, (tuple, list)) and len(item) == 2 and \
                isinstance(item[0], str):
            out.append((item[0], item[1]))
        else:
            out.append((f'video_{i}', item))
    names = [n for n, _ in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f'video names given twice: {dup}')
    return out


def config_snippet_rate(cfg) -> Tuple[int, float]:
    """``(snippet_frames, feature_fps)`` of the config's train dataset (else
    test dataset, else top-level keys); 16 and 25 when none is set."""
    for loader in ('train_dataloader', 'test_dataloader'):
        ds = (cfg.get(loader) or {}).get('dataset') or {}
        if 'snippet_frames' in ds or 'feature_fps' in ds:
            return int(ds.get('snippet_frames', 16)), float(
                ds.get('feature_fps', 25.0))
    return int(cfg.get('snippet_frames', 16)), float(
        cfg.get('feature_fps', 25.0))


def config_snippet_seconds(cfg) -> float:
    """``snippet_frames / feature_fps`` of :func:`config_snippet_rate`."""
    frames, fps = config_snippet_rate(cfg)
    return frames / fps


def _make_sample(video: str, num_snippets: int, snippet_seconds: float):
    from mmaction.structures import ActionDataSample
    sample = ActionDataSample()
    sample.set_metainfo(
        dict(video_name=video,
             num_snippets=int(num_snippets),
             snippet_seconds=float(snippet_seconds),
             duration=float(num_snippets * snippet_seconds)))
    return sample


# --------------------------------------------------------------------------
# inference
# --------------------------------------------------------------------------
def inference_localizer(model,
                        features,
                        snippet_seconds: Optional[float] = None,
                        batch_size: int = 8,
                        progress: bool = False) -> List[Dict]:
    """Localize actions in videos given their snippet features.

    Args:
        model: from :func:`init_localizer`.
        features: a ``.npy`` path, a folder (``<video>.npy`` or ``rgb/`` +
            ``flow/``), a list of those, a ``{video: array [T, D]}`` dict,
            or one array.
        snippet_seconds (float, optional): seconds a snippet covers; default
            from the config (``snippet_frames / feature_fps``).
        batch_size (int): videos a forward pass.
        progress (bool): show progress (a bar on a terminal, a short line
            every 10 % otherwise).

    Returns:
        list of dict, one a video in input order: ``video``, ``segments``
        (float64 ``[M, 2]`` seconds, within ``[0, T * snippet_seconds]``),
        ``labels`` (int64 ``[M]`` indices into ``model.dataset_meta
        ['classes']``), ``label_names``, ``scores`` (float64 ``[M]``, sorted
        descending), ``num_snippets``, ``duration``, ``snippet_seconds``.
    """
    from mmengine.dataset import pseudo_collate
    from ..engine.log_utils import Progress

    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    cfg = getattr(model, 'cfg', None)
    if snippet_seconds is None:
        if cfg is None:
            raise ValueError(
                'snippet_seconds is needed: the model has no config to read '
                'snippet_frames / feature_fps from (load it with '
                'init_localizer, or pass snippet_seconds=...)')
        snippet_seconds = config_snippet_seconds(cfg)
    snippet_seconds = float(snippet_seconds)
    if not snippet_seconds > 0:
        raise ValueError(f'snippet_seconds must be > 0, got {snippet_seconds}')
    # class names come from the checkpoint; numbering them '0', '1', ...
    # would write results files no evaluator can match to the annotations
    classes = (getattr(model, 'dataset_meta', None) or {}).get('classes')
    if classes is None:
        raise ValueError(
            'the model has no class names (dataset_meta["classes"]): load it '
            'with init_localizer from a checkpoint written by tools/train.py, '
            'or set model.dataset_meta = dict(classes=[...])')
    classes = list(classes)
    items = _normalise_inputs(features)
    bar = (Progress(len(items), 'inference')
           if progress and len(items) > 1 else None)
    results = []
    for i in range(0, len(items), batch_size):
        chunk = items[i:i + batch_size]
        batch = [_sample_for(model, video, src, snippet_seconds)
                 for video, src in chunk]
        with torch.no_grad():
            outs = model.test_step(pseudo_collate(batch))
        results.extend(_result_of(ds, classes, snippet_seconds) for ds in outs)
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    return results


def _sample_for(model, video: str, src, snippet_seconds: float) -> Dict:
    """One ``dict(inputs, data_samples)`` of ``test_step``, the features
    checked against the checkpoint's ``feat_dim``."""
    if isinstance(src, (list, tuple)):
        arr = load_features(src)
        where = ' + '.join(src)
    else:
        where = f'video {video}'
        if torch.is_tensor(src):
            src = src.detach().cpu().numpy()
        arr = _check_array(src, where)
    if arr.shape[1] != model.feat_dim:
        from ..datasets.parsers.errors import DataError
        from ..datasets.parsers.features import transposed_hint
        hint = transposed_hint(arr.shape, int(model.feat_dim)) \
            if not isinstance(src, (list, tuple)) or len(src) == 1 \
            else ''
        raise DataError(
            f'{where}: features are {arr.shape[1]}-d but the '
            f'checkpoint was trained on {model.feat_dim}-d features'
            f'{hint}')
    return dict(inputs=torch.from_numpy(arr),
                data_samples=_make_sample(video, arr.shape[0],
                                          snippet_seconds))


def _result_of(ds, classes: Sequence[str], snippet_seconds: float) -> Dict:
    """One video's predictions as float64 numpy, clipped to the video,
    empty segments dropped, sorted by score (stable)."""
    pred = ds.pred_instances
    T = int(ds.metainfo['num_snippets'])
    duration = T * snippet_seconds
    segs = pred.segments.float().cpu().numpy().astype(np.float64)
    segs = segs.reshape(-1, 2).clip(0.0, duration)
    labels = pred.labels.cpu().numpy().astype(np.int64).reshape(-1)
    scores = pred.scores.float().cpu().numpy().astype(np.float64).reshape(-1)
    keep = segs[:, 1] > segs[:, 0]  # nothing empty after clipping
    segs, labels, scores = segs[keep], labels[keep], scores[keep]
    order = np.argsort(-scores, kind='stable')
    segs, labels, scores = segs[order], labels[order], scores[order]
    return dict(video=ds.metainfo['video_name'], segments=segs,
                labels=labels, label_names=[classes[int(c)] for c in labels],
                scores=scores, num_snippets=T, duration=duration,
                snippet_seconds=snippet_seconds)


def localizer_outputs(model, features: np.ndarray) -> Dict[str, np.ndarray]:
    """Stage-1 outputs of one video (``[T, D]`` array): ``cas``,
    ``fused_cas`` ``[T, C]``, ``attn``, ``bg`` ``[T]``, ``video_scores``
    ``[C]``, as NumPy arrays (for plots and analysis)."""
    arr = _check_array(features.detach().cpu().numpy()
                       if torch.is_tensor(features) else features,
                       'features')
    device = next(model.parameters()).device
    x = torch.from_numpy(arr)[None].to(device)
    with torch.no_grad():
        out = model.snippet_pass(x).outputs
    return {
        k: out[k][0].float().cpu().numpy()
        for k in ('cas', 'fused_cas', 'attn', 'bg', 'video_scores')
        if k in out
    }
