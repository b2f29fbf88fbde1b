"""On-disk format of the stage-2 mining output (PP / RP / NP of the whole
training set).

One file written with ``torch.save`` (read back with ``weights_only=True``:
only plain tensors, numbers, strings, lists and dicts), holding a dict::

    {
      'format':      'hrpro-proposals',
      'version':     1,                    # FORMAT_VERSION
      'units':       'snippets',           # every start / end below
      'seed':        int,                  # NP sampler seed
      'checkpoint':  str,                  # id of the stage-1 model mined
      'video_names': [str, ...],           # V names; row i = video_index i
      'num_snippets': LongTensor [V],      # optional: valid length T of each
      'meta':        dict,                 # optional: free-form (classes, ...)
      'pp': {'video_index': long [N], 'start': float32 [N],
             'end': float32 [N], 'label': long [N], 'score': float32 [N]},
      'rp': {'video_index': long [R], 'start', 'end', 'label', 'score',
             'pp_index': long [R],         # row of 'pp' it was chosen from
             'point_snippet': long [R],    # the point it came from
             'point_label': long [R]},
      'np': {'video_index': long [M], 'start': float32 [M],
             'end': float32 [M]},
    }

Every set is sorted by ``video_index`` (stable; ``rp.pp_index`` follows the
sorted PP). ``score`` is the OIC. RP rows are per point (two points inside
one proposal give two rows). Positions are in snippet units: snippet ``i``
spans ``[i, i + 1)``.

:func:`save_proposals` writes atomically (:func:`.atomic.atomic_write`: a
temporary file in the same folder, then ``os.replace``);
:func:`load_proposals` validates the dict and
raises :class:`ProposalFileError` naming the file on any problem.
:func:`make_proposal_data` and :func:`concat_mined` turn the output of
``mining.mine_proposals`` (per batch) into this dict.
"""
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import torch

from .atomic import atomic_write

FORMAT_NAME = 'hrpro-proposals'
FORMAT_VERSION = 1
SET_KEYS = {
    'pp': ('video_index', 'start', 'end', 'label', 'score'),
    'rp': ('video_index', 'start', 'end', 'label', 'score', 'pp_index',
           'point_snippet', 'point_label'),
    'np': ('video_index', 'start', 'end'),
}
_LONG_KEYS = ('video_index', 'label', 'pp_index', 'point_snippet',
              'point_label')
TOP_KEYS = ('format', 'version', 'units', 'seed', 'checkpoint',
            'video_names', 'pp', 'rp', 'np')


class ProposalFileError(ValueError):
    """A proposal file is missing, unreadable or not in the expected format."""


def _as_column(key: str, value) -> torch.Tensor:
    t = torch.as_tensor(value).detach().cpu().reshape(-1)
    return t.long() if key in _LONG_KEYS else t.float()


def concat_mined(parts: Sequence[Tuple[Dict[str, Dict[str, torch.Tensor]], int]]
                 ) -> Dict[str, Dict[str, torch.Tensor]]:
    """Join the per-batch outputs of ``mine_proposals``.

    Args:
        parts: ``(mined, num_videos_in_that_batch)`` in video order; each
            batch's ``batch_idx`` is offset by the videos before it, and RP
            ``pp_index`` by the PP before it.

    Returns:
        One mined dict (``batch_idx`` = index over all videos), on the CPU.
    """
    out = {k: {} for k in SET_KEYS}
    v_off, pp_off = 0, 0
    cols = {k: {} for k in SET_KEYS}
    for mined, nv in parts:
        for name in SET_KEYS:
            for key, val in mined[name].items():
                val = val.detach().cpu()
                if key == 'batch_idx':
                    val = val + v_off
                elif name == 'rp' and key == 'pp_index':
                    val = val + pp_off
                cols[name].setdefault(key, []).append(val)
        v_off += int(nv)
        pp_off += int(mined['pp']['batch_idx'].numel())
    for name in SET_KEYS:
        out[name] = {k: torch.cat(v) for k, v in cols[name].items()}
    return out


def make_proposal_data(video_names: Sequence[str],
                       mined: Dict[str, Dict[str, torch.Tensor]],
                       seed: int, checkpoint: str,
                       num_snippets: Optional[Sequence[int]] = None,
                       meta: Optional[dict] = None) -> dict:
    """The file dict from a mined dict whose ``batch_idx`` indexes
    ``video_names`` (e.g. :func:`concat_mined`'s output). Sets are sorted
    by video (stable) and ``rp.pp_index`` is remapped accordingly."""
    data = dict(format=FORMAT_NAME, version=FORMAT_VERSION, units='snippets',
                seed=int(seed), checkpoint=str(checkpoint),
                video_names=[str(v) for v in video_names])
    if num_snippets is not None:
        data['num_snippets'] = torch.as_tensor(num_snippets).long().reshape(-1)
    if meta is not None:
        data['meta'] = dict(meta)
    pp_new_pos = None
    for name in ('pp', 'rp', 'np'):
        src = mined[name]
        cols = {}
        for key in SET_KEYS[name]:
            skey = 'batch_idx' if key == 'video_index' else key
            if skey not in src:
                raise KeyError(f'mined[{name!r}] lacks {skey!r}')
            cols[key] = _as_column(key, src[skey])
        order = torch.sort(cols['video_index'], stable=True).indices
        cols = {k: v[order] for k, v in cols.items()}
        if name == 'pp':
            pp_new_pos = torch.empty_like(order)
            pp_new_pos[order] = torch.arange(order.numel())
        if name == 'rp' and cols['pp_index'].numel():
            cols['pp_index'] = pp_new_pos[cols['pp_index']]
        data[name] = cols
    return data


def _fail(path: str, msg: str):
    raise ProposalFileError(f'proposal file {path}: {msg}')


def validate_proposals(data, path: str = '<memory>') -> None:
    """Check the structure of a proposal dict; raise
    :class:`ProposalFileError` naming ``path`` on the first problem."""
    if not isinstance(data, dict):
        _fail(path, f'expected a dict, got {type(data).__name__}')
    missing = [k for k in TOP_KEYS if k not in data]
    if missing:
        _fail(path, f'missing keys {missing}')
    if data['format'] != FORMAT_NAME:
        _fail(path, f"format is {data['format']!r}, expected {FORMAT_NAME!r}")
    if data['version'] != FORMAT_VERSION:
        _fail(path, f"version {data['version']!r} is not supported "
              f'(expected {FORMAT_VERSION}); mine the proposals again')
    if data['units'] != 'snippets':
        _fail(path, f"units {data['units']!r}, expected 'snippets'")
    names = data['video_names']
    if not isinstance(names, (list, tuple)) or not all(
            isinstance(n, str) for n in names):
        _fail(path, 'video_names must be a list of str')
    if len(set(names)) != len(names):
        _fail(path, 'video_names has duplicates')
    V = len(names)
    if 'num_snippets' in data and (
            not torch.is_tensor(data['num_snippets'])
            or data['num_snippets'].numel() != V):
        _fail(path, f'num_snippets must be a tensor of {V} lengths')
    for name, keys in SET_KEYS.items():
        s = data[name]
        if not isinstance(s, dict):
            _fail(path, f'{name!r} must be a dict of tensors')
        miss = [k for k in keys if k not in s]
        if miss:
            _fail(path, f'{name!r} is missing keys {miss}')
        n = None
        for k in keys:
            t = s[k]
            if not torch.is_tensor(t) or t.dim() != 1:
                _fail(path, f'{name}.{k} must be a 1-D tensor')
            if n is None:
                n = t.numel()
            elif t.numel() != n:
                _fail(path, f'{name}.{k} has {t.numel()} rows, expected {n}')
        vi = s['video_index']
        if n and (int(vi.min()) < 0 or int(vi.max()) >= V):
            _fail(path, f'{name}.video_index out of range [0, {V})')
        if n and bool((vi[1:] < vi[:-1]).any()):
            _fail(path, f'{name} is not sorted by video_index')
    pp_n = data['pp']['video_index'].numel()
    pi = data['rp']['pp_index']
    if pi.numel() and (int(pi.min()) < 0 or int(pi.max()) >= pp_n):
        _fail(path, 'rp.pp_index out of range')


def save_proposals(path: str, data: dict) -> None:
    """Validate ``data`` and write it to ``path`` atomically (the in-memory
    caches that :func:`load_proposals` adds, ``offsets`` and keys starting
    with ``_``, are not written)."""
    validate_proposals(data, path)
    data = {k: v for k, v in data.items()
            if k != 'offsets' and not k.startswith('_')}
    atomic_write(path, lambda f: torch.save(data, f))


def load_proposals(path: str) -> dict:
    """Read and validate a proposal file; adds ``offsets`` (per set, a
    ``[V + 1]`` long tensor: rows of video i are ``offsets[i]:offsets[i+1]``)
    for :func:`proposals_for_video`."""
    if not osp.isfile(path):
        raise ProposalFileError(f'proposal file {path} does not exist')
    try:
        data = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:  # corrupt / not a torch file
        raise ProposalFileError(
            f'proposal file {path} cannot be read ({type(err).__name__}: '
            f'{err})') from err
    validate_proposals(data, path)
    data['offsets'] = _offsets(data)
    return data


def _offsets(data: dict) -> Dict[str, torch.Tensor]:
    V = len(data['video_names'])
    out = {}
    for name in SET_KEYS:
        cnt = torch.bincount(data[name]['video_index'], minlength=V)
        out[name] = torch.cat([torch.zeros(1, dtype=torch.long),
                               torch.cumsum(cnt, 0)])
    return out


def proposals_for_video(data: dict, video_name: str
                        ) -> Dict[str, Dict[str, torch.Tensor]]:
    """``dict(pp=..., rp=..., np=...)`` of one video (columns as in the file,
    without ``video_index``; ``rp.pp_index`` indexes this video's ``pp``).
    A name not in the file raises KeyError naming it."""
    index = _name_index(data)
    if video_name not in index:
        raise KeyError(f'video {video_name!r} is not in the proposal file '
                       f'(checkpoint {data.get("checkpoint")!r})')
    i = index[video_name]
    offsets = data.get('offsets') or _offsets(data)
    out = {}
    for name, keys in SET_KEYS.items():
        a, b = int(offsets[name][i]), int(offsets[name][i + 1])
        # clone: a view would drag the whole file's storage along whenever
        # mmengine deep-copies the sample's metainfo
        out[name] = {k: data[name][k][a:b].clone() for k in keys
                     if k != 'video_index'}
    out['rp']['pp_index'] = out['rp']['pp_index'] - int(offsets['pp'][i])
    return out


def _name_index(data: dict) -> Dict[str, int]:
    idx = data.get('_name_index')
    if idx is None or len(idx) != len(data['video_names']):
        idx = {n: i for i, n in enumerate(data['video_names'])}
        data['_name_index'] = idx
    return idx
