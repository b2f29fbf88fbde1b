"""Helpers shared by the hooks: sharded, ordered passes over a dataset."""
from typing import Iterator, List

from mmengine.dataset import pseudo_collate
from mmengine.dist import get_dist_info, is_main_process
from mmengine.model import is_model_wrapper


def unwrap(model):
    return model.module if is_model_wrapper(model) else model


def iterate_dataset(dataset, batch_size: int, shard: bool = True,
                    progress: str = '') -> Iterator[List[dict]]:
    """Yield batches (``pseudo_collate``-d) over ``dataset`` in index order.

    With ``shard=True`` each process takes every world_size-th video (no
    padding: unlike ``DefaultSampler``, no video is seen twice, so sums over
    processes are exact). Shows progress on the main process (a bar on a
    terminal, a short line every 10 % in a log file).
    """
    rank, world = get_dist_info()
    indices = list(range(len(dataset)))
    if shard:
        indices = indices[rank::world]
    from .log_utils import Progress
    bar = (Progress(len(indices), progress)
           if (progress and is_main_process()) else None)
    for i in range(0, len(indices), batch_size):
        chunk = indices[i:i + batch_size]
        yield pseudo_collate([dataset[j] for j in chunk])
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()

