"""PointTALDataset(holdout=...): a seeded, disjoint train/val split of the
training videos."""
import numpy as np
import pytest

from hrpro_plugin.datasets import PointTALDataset


def _names(ds):
    return [ds.get_data_info(i)['video_name'] for i in range(len(ds))]


def _build(root, use, seed=0, ratio=0.2, **kwargs):
    kwargs.setdefault('require_points', use == 'train')
    return PointTALDataset(data_root=root, split_file='split_train.txt',
                           feature_dir='features/train',
                           holdout=dict(ratio=ratio, seed=seed, use=use),
                           test_mode=use == 'val', **kwargs)


def test_parts_are_disjoint_cover_the_split_and_follow_the_seed(
        tiny_dataset):
    everything = _names(PointTALDataset(data_root=tiny_dataset,
                                        split_file='split_train.txt',
                                        feature_dir='features/train'))
    train, val = (_names(_build(tiny_dataset, u)) for u in ('train', 'val'))
    assert len(val) == 2 and len(train) == 8          # round(0.2 x 10)
    assert set(train) | set(val) == set(everything)
    assert not set(train) & set(val)
    # the split does not depend on require_points (drawn before the
    # videos without points are dropped)
    assert _names(_build(tiny_dataset, 'val', require_points=True)) == val
    # the draw: a permutation of the sorted names by numpy's default_rng
    ordered = sorted(everything)
    perm = np.random.default_rng(0).permutation(len(ordered))
    assert set(val) == {ordered[i] for i in perm[:2]}
    # another seed, another draw (for this set of names)
    assert set(_names(_build(tiny_dataset, 'val', seed=3))) != set(val)


@pytest.mark.parametrize('holdout,message', [
    (dict(ratio=1.5, use='val'), 'holdout.ratio must be a number in (0, 1)'),
    (dict(ratio=0.2, use='test'), "holdout.use must be 'train' or 'val'"),
    (dict(ratio=0.2, use='val', seed='a'), 'holdout.seed must be an integer'),
    (dict(ratio=0.2, use='val', fraction=1),
     "holdout: unknown key(s) ['fraction']"),
])
def test_bad_holdout_is_refused(tiny_dataset, holdout, message):
    with pytest.raises(ValueError) as err:
        PointTALDataset(data_root=tiny_dataset, holdout=holdout,
                        split_file='split_train.txt',
                        feature_dir='features/train')
    assert message in str(err.value)
