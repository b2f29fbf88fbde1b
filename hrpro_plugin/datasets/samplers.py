"""Batch sampler that groups videos of similar length."""
from typing import Iterator, List, Optional

import numpy as np
from torch.utils.data import BatchSampler, Sampler

from mmaction.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class LengthBucketBatchSampler(BatchSampler):
    """Batches of videos of similar length (fewer padded snippets).

    Padding decides the cost of a batch of whole videos (attention is
    quadratic in the padded length), so videos are put into ``num_buckets``
    buckets by length quantiles and a batch is emitted when a bucket holds
    ``batch_size`` videos. The order of videos within and across buckets
    follows the wrapped sampler (so ``InfiniteSampler(shuffle=True)`` still
    gives random batches, and a seed gives the same batches). mmengine ships
    no such sampler for sequences (mmdet's AspectRatioBatchSampler does the
    same for image shapes).

    Args:
        sampler (Sampler): yields dataset indices; its ``dataset`` must
            provide ``get_data_info(i)['num_snippets']``.
        batch_size (int): videos per batch.
        num_buckets (int): length buckets; 1 disables bucketing.
        drop_last (bool): drop the incomplete batches at the end of a finite
            sampler; otherwise they are emitted, the shortest first.
    """

    def __init__(self, sampler: Sampler, batch_size: int,
                 num_buckets: int = 4, drop_last: bool = False) -> None:
        if batch_size < 1 or num_buckets < 1:
            raise ValueError('batch_size and num_buckets must be >= 1, got '
                             f'{batch_size} and {num_buckets}')
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last
        dataset = getattr(sampler, 'dataset', None)
        if dataset is None:
            raise ValueError('LengthBucketBatchSampler needs a sampler with a '
                             '.dataset (e.g. DefaultSampler, InfiniteSampler)')
        lengths = np.array([dataset.get_data_info(i)['num_snippets']
                            for i in range(len(dataset))])
        qs = np.quantile(lengths, np.linspace(0, 1, num_buckets + 1)[1:-1]) \
            if len(lengths) else np.array([])
        self.bucket_of = np.searchsorted(qs, lengths, side='right')
        self.num_buckets = num_buckets

    def __iter__(self) -> Iterator[List[int]]:
        buckets: List[List[int]] = [[] for _ in range(self.num_buckets)]
        for idx in self.sampler:
            bucket = buckets[self.bucket_of[idx]]
            bucket.append(idx)
            if len(bucket) == self.batch_size:
                yield bucket[:]
                bucket.clear()
        if not self.drop_last:
            for bucket in buckets:
                if bucket:
                    yield bucket[:]

    def __len__(self) -> int:
        n = len(self.sampler)
        if self.drop_last:
            # upper bound is exact only without bucketing; count per bucket
            counts = np.bincount(self.bucket_of, minlength=self.num_buckets)
            return int(sum(c // self.batch_size for c in counts))
        counts = np.bincount(self.bucket_of, minlength=self.num_buckets)
        if n != len(self.bucket_of):  # sampler pads / shards: approximate
            return (n + self.batch_size - 1) // self.batch_size
        return int(sum((c + self.batch_size - 1) // self.batch_size
                       for c in counts))

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.sampler, 'set_epoch'):
            self.sampler.set_epoch(epoch)
