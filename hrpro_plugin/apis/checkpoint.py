"""Reading the checkpoints written by ``tools/train.py``: the one loader of
``tools/test.py`` (through :func:`~hrpro_plugin.apis.fill_from_checkpoint`),
``tools/infer.py`` and ``tools/visualize.py`` (through
:func:`~hrpro_plugin.apis.init_localizer`), with one message for a file
that is not a checkpoint.
"""
import os.path as osp
import zipfile
from typing import List, Optional, Tuple

import torch

from ..datasets.parsers.errors import DataError, MissingFileError

__all__ = [
    'read_checkpoint', 'checkpoint_classes', 'checkpoint_feat_dim',
    'checkpoint_dims', 'EXPECTED_CHECKPOINT'
]

EXPECTED_CHECKPOINT = ('expected a .pth file written by tools/train.py '
                       '(torch.save of a dict with "meta" and "state_dict")')


def _what_it_is(path: str, err: Exception) -> str:
    """Why ``torch.load`` failed, in words (one line)."""
    with open(path, 'rb') as f:
        head = f.read(4096)
    if not head:
        return 'the file is empty'
    if head.startswith(b'PK\x03\x04') and not zipfile.is_zipfile(path):
        return ('a truncated zip archive (an interrupted copy, download or '
                'save?)')
    try:
        text = head.decode('utf-8')
    except UnicodeDecodeError:
        text = None
    if text is not None and all(c.isprintable() or c in '\r\n\t'
                                for c in text):
        return 'a text file'
    reason = ' '.join(str(err).split()) or type(err).__name__
    return f'torch.load failed with {type(err).__name__}: {reason[:200]}'


def read_checkpoint(path: str) -> dict:
    """The checkpoint dict (tensors on the CPU).

    Raises:
        MissingFileError: no such file.
        DataError: the file is not a readable checkpoint (random bytes, a
            truncated zip, a text file, ...) or holds no ``state_dict``; the
            message names the path and what was expected.
    """
    path = osp.expanduser(str(path))
    if not osp.isfile(path):
        raise MissingFileError(f'{path}: checkpoint not found')
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=False)
    except Exception as err:  # UnpicklingError, RuntimeError, EOFError, ...
        raise DataError(f'{path}: not a readable checkpoint: '
                        f'{_what_it_is(path, err)}; {EXPECTED_CHECKPOINT}'
                        ) from None
    if not isinstance(ckpt, dict) or 'state_dict' not in ckpt:
        raise DataError(f'{path}: not an MMEngine checkpoint (no '
                        f'"state_dict"); {EXPECTED_CHECKPOINT}')
    return ckpt


def checkpoint_classes(ckpt: dict, path: str) -> List[str]:
    """``meta.dataset_meta.classes`` of a checkpoint dict."""
    meta = ckpt.get('meta') or {}
    classes = (meta.get('dataset_meta') or {}).get('classes') \
        if isinstance(meta, dict) else None
    if classes is None:
        raise DataError(f'{path} stores no dataset_meta.classes; it was not '
                        'written by tools/train.py')
    return list(classes)


def checkpoint_feat_dim(state_dict: dict) -> Optional[int]:
    """Feature width a checkpoint was trained on (from the prototype memory,
    ``[C, D]``), or None when it has none."""
    proto = state_dict.get('memory.prototypes')
    return None if proto is None else int(proto.shape[1])


def checkpoint_dims(path: str) -> Tuple[dict, List[str], Optional[int]]:
    """``(checkpoint dict, classes, feat_dim)`` of a checkpoint written by
    ``tools/train.py`` (errors as :func:`read_checkpoint`)."""
    ckpt = read_checkpoint(path)
    classes = checkpoint_classes(ckpt, path)
    return ckpt, classes, checkpoint_feat_dim(ckpt['state_dict'])
