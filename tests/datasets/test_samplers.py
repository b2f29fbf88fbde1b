"""``LengthBucketBatchSampler``: batches of videos from one length bucket,
in the order of the wrapped sampler; lengths and batches by hand."""
import itertools

import pytest
from mmengine.dataset import DefaultSampler, InfiniteSampler
from torch.utils.data import Sampler

import hrpro_plugin  # noqa: F401  (registers the sampler)
from hrpro_plugin.datasets.samplers import LengthBucketBatchSampler
from mmaction.registry import DATA_SAMPLERS

# 10 videos; the median of these lengths is (8 + 90) / 2 = 49, so with two
# buckets the short ones are 0, 2, 4, 6, 7 and the long ones 1, 3, 5, 8, 9
LENGTHS = [5, 100, 7, 90, 6, 95, 8, 3, 99, 97]
SHORT, LONG = {0, 2, 4, 6, 7}, {1, 3, 5, 8, 9}


class _Lengths:
    def __init__(self, lengths):
        self.lengths = list(lengths)

    def __len__(self):
        return len(self.lengths)

    def get_data_info(self, i):
        return dict(num_snippets=self.lengths[i])


class _Fixed(Sampler):
    """Yields a given order (a sampler with a ``.dataset``)."""

    def __init__(self, dataset, order):
        self.dataset = dataset
        self.order = list(order)

    def __iter__(self):
        return iter(self.order)

    def __len__(self):
        return len(self.order)


def _sampler(order=range(10), lengths=LENGTHS, **kw):
    return LengthBucketBatchSampler(_Fixed(_Lengths(lengths), order), **kw)


def test_batches_by_hand_in_sampler_order():
    """Sampler order 0..9, batch 2: 0 -> S[0]; 1 -> L[1]; 2 -> S[0, 2] out;
    3 -> L[1, 3] out; 4 -> S[4]; 5 -> L[5]; 6 -> S[4, 6] out; 7 -> S[7];
    8 -> L[5, 8] out; 9 -> L[9]; at the end the partial buckets, short
    first: [7], [9]."""
    s = _sampler(batch_size=2, num_buckets=2)
    assert s.bucket_of.tolist() == [0, 1, 0, 1, 0, 1, 0, 0, 1, 1]
    assert list(s) == [[0, 2], [1, 3], [4, 6], [5, 8], [7], [9]]
    assert len(s) == 6                      # ceil(5 / 2) + ceil(5 / 2)
    # another order of the same videos (the sampler decides the order)
    s = _sampler([9, 0, 1, 7, 2, 3, 4, 5, 6, 8], batch_size=2, num_buckets=2)
    assert list(s) == [[9, 1], [0, 7], [2, 4], [3, 5], [6], [8]]


def test_drop_last_drops_each_buckets_remainder():
    s = _sampler(batch_size=2, num_buckets=2, drop_last=True)
    assert list(s) == [[0, 2], [1, 3], [4, 6], [5, 8]]
    assert len(s) == 4                      # 5 // 2 + 5 // 2
    s = _sampler(batch_size=3, num_buckets=2, drop_last=True)
    # S: 0, 2, 4 -> out; 6, 7 left. L: 1, 3, 5 -> out; 8, 9 left
    assert list(s) == [[0, 2, 4], [1, 3, 5]]
    assert len(s) == 2
    s = _sampler(batch_size=3, num_buckets=2)
    assert list(s) == [[0, 2, 4], [1, 3, 5], [6, 7], [8, 9]]
    assert len(s) == 4


def test_four_buckets_by_quantiles():
    """Lengths 10, 80, 20, 70, 30, 60, 40, 50: quartiles 27.5, 45, 62.5
    (linear interpolation), so buckets {10, 20}, {30, 40}, {50, 60},
    {70, 80}, i.e. videos {0, 2}, {4, 6}, {5, 7}, {1, 3}."""
    s = _sampler(range(8), [10, 80, 20, 70, 30, 60, 40, 50], batch_size=2,
                 num_buckets=4)
    assert s.bucket_of.tolist() == [0, 3, 0, 3, 1, 2, 1, 2]
    assert list(s) == [[0, 2], [1, 3], [4, 6], [5, 7]]
    assert len(s) == 4


def test_length_on_a_boundary_goes_to_the_longer_bucket():
    # median of 1, 2, 3 is 2: the video of length 2 joins 3
    s = _sampler(range(3), [1, 2, 3], batch_size=2, num_buckets=2)
    assert s.bucket_of.tolist() == [0, 1, 1]
    assert list(s) == [[1, 2], [0]]


def test_one_bucket_is_plain_batching():
    s = _sampler([3, 1, 4, 0, 5, 9, 2, 6, 8, 7], batch_size=4,
                 num_buckets=1)
    assert list(s) == [[3, 1, 4, 0], [5, 9, 2, 6], [8, 7]]
    assert len(s) == 3


@pytest.mark.parametrize('drop_last', [False, True])
def test_shuffled_epochs_every_index_once_and_deterministic(drop_last):
    dataset = _Lengths(LENGTHS)

    def epoch(seed, e):
        sampler = DefaultSampler(dataset, shuffle=True, seed=seed)
        s = LengthBucketBatchSampler(sampler, batch_size=2, num_buckets=2,
                                     drop_last=drop_last)
        s.set_epoch(e)
        return list(s)

    orders = set()
    for e in range(4):
        batches = epoch(7, e)
        assert batches == epoch(7, e)       # same seed and epoch, same batches
        flat = [i for b in batches for i in b]
        assert len(flat) == len(set(flat))  # no index twice
        if drop_last:
            # one video of each 5-video bucket is left over
            assert len(flat) == 8 and all(len(b) == 2 for b in batches)
            assert len(SHORT - set(flat)) == 1 and len(LONG - set(flat)) == 1
        else:
            assert sorted(flat) == list(range(10))
        for b in batches:
            assert set(b) <= SHORT or set(b) <= LONG
        orders.add(tuple(flat))
    assert len(orders) > 1                  # set_epoch reshuffles
    assert epoch(7, 0) != epoch(8, 0)       # the seed matters


def test_infinite_sampler_stream():
    sampler = InfiniteSampler(_Lengths(LENGTHS), shuffle=True, seed=3)
    s = LengthBucketBatchSampler(sampler, batch_size=2, num_buckets=2)
    batches = list(itertools.islice(iter(s), 20))
    assert all(len(b) == 2 for b in batches)
    for b in batches:
        assert set(b) <= SHORT or set(b) <= LONG
    again = LengthBucketBatchSampler(
        InfiniteSampler(_Lengths(LENGTHS), shuffle=True, seed=3),
        batch_size=2, num_buckets=2)
    assert list(itertools.islice(iter(again), 20)) == batches


def test_registered_and_argument_errors():
    built = DATA_SAMPLERS.build(dict(
        type='LengthBucketBatchSampler', batch_size=2, num_buckets=2,
        sampler=_Fixed(_Lengths(LENGTHS), range(10))))
    assert list(built)[:2] == [[0, 2], [1, 3]]
    with pytest.raises(ValueError, match='must be >= 1'):
        _sampler(batch_size=0)
    with pytest.raises(ValueError, match='must be >= 1'):
        _sampler(batch_size=2, num_buckets=0)

    class NoDataset(Sampler):
        def __iter__(self):
            return iter(range(3))

    with pytest.raises(ValueError, match='needs a sampler with a .dataset'):
        LengthBucketBatchSampler(NoDataset(), batch_size=2)
