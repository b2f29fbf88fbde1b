"""The seeded holdout of :class:`~.point_tal_dataset.PointTALDataset`: a
split file's videos cut into a training part and a held-out validation part
(``holdout=dict(ratio=0.2, seed=0, use='train' | 'val')``), disjoint and the
same for both datasets that draw it."""
from typing import List, Optional

import numpy as np
from mmengine.logging import print_log

from .parsers.errors import DataError

__all__ = ['check_holdout', 'holdout_part']


def check_holdout(holdout: Optional[dict]) -> Optional[dict]:
    """The checked ``dict(ratio=float, seed=int, use='train' | 'val')``,
    or None; a ``ValueError`` names a wrong key or value."""
    if holdout is None:
        return None
    if not isinstance(holdout, dict):
        raise ValueError(f'holdout must be a dict(ratio=..., seed=..., '
                         f'use=...), got {holdout!r}')
    unknown = set(holdout) - {'ratio', 'seed', 'use'}
    if unknown:
        raise ValueError(f'holdout: unknown key(s) {sorted(unknown)}; '
                         'expected ratio, seed, use')
    ratio = holdout.get('ratio')
    seed = holdout.get('seed', 0)
    use = holdout.get('use')
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or \
            not 0 < ratio < 1:
        raise ValueError(f'holdout.ratio must be a number in (0, 1), got '
                         f'{ratio!r}')
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f'holdout.seed must be an integer, got {seed!r}')
    if use not in ('train', 'val'):
        raise ValueError(f"holdout.use must be 'train' or 'val', got {use!r}")
    return dict(ratio=float(ratio), seed=int(seed), use=use)


def holdout_part(videos: List[str], split_path: str,
                 holdout: dict) -> List[str]:
    """The part of ``videos`` (in their order) that ``holdout`` (checked by
    :func:`check_holdout`) selects: ``round(ratio x N)`` videos, at least 1,
    drawn from the sorted names with ``seed`` are held out."""
    ratio, seed, use = (holdout[k] for k in ('ratio', 'seed', 'use'))
    ordered = sorted(set(videos))
    n_held = min(max(1, int(round(ratio * len(ordered)))),
                 len(ordered) - 1)
    if n_held < 1:
        raise DataError(f'{split_path}: holdout needs at least 2 videos, '
                        f'the split has {len(ordered)}')
    perm = np.random.default_rng(seed).permutation(len(ordered))
    held = {ordered[i] for i in perm[:n_held]}
    part = [v for v in videos if (v in held) == (use == 'val')]
    print_log(f'{split_path}: holdout(ratio={ratio:g}, seed={seed}): '
              f'{n_held} of {len(ordered)} videos held out for '
              f'validation; this set uses the {use} part '
              f'({len(part)} videos)', logger='current')
    return part
