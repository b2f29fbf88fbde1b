"""Keeps the global random number generators in checkpoints, so that a run
resumed with ``--resume`` draws the same dropout masks as one that was never
interrupted."""
import random
from typing import List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmaction.registry import HOOKS

RNG_KEY = 'rng_state'


def get_rng_state() -> dict:
    """States of python ``random``, numpy's global generator, torch's CPU
    generator and (when CUDA is available) every CUDA device's generator."""
    state = dict(python=random.getstate(),
                 numpy=np.random.get_state(),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> List[str]:
    """Restore what :func:`get_rng_state` returned; returns the names of the
    generators that could not be restored (CUDA states saved on another
    number of devices, or without CUDA here)."""
    skipped = []
    random.setstate(_as_python_state(state['python']))
    np.random.set_state(state['numpy'])
    # a checkpoint loaded with map_location='cuda' moves these byte tensors to
    # the GPU; the setters want them on the CPU
    torch.set_rng_state(torch.as_tensor(state['torch']).cpu())
    cuda = state.get('cuda')
    if cuda is not None:
        if torch.cuda.is_available() and \
                len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all([t.cpu() for t in cuda])
        else:
            skipped.append('cuda')
    return skipped


def _as_python_state(value):
    # random.setstate wants tuples; a checkpoint round trip keeps them, but
    # be lenient with lists (e.g. a state written by another tool)
    if isinstance(value, list):
        return tuple(_as_python_state(v) for v in value)
    return value


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the global RNG states in every checkpoint; restore them when a
    run is resumed (``--resume`` / ``resume=True``), never when a checkpoint
    is only loaded (``load_from`` fine-tuning, testing).

    What is saved: python ``random``, numpy's global generator, torch's CPU
    generator and, with CUDA, every device's generator, under
    ``checkpoint['rng_state']``. Under multi-process training the states of
    every rank are gathered (only rank 0 writes the checkpoint) and each rank
    gets its own back.

    When the states are restored (MMEngine 0.10.7): ``after_load_checkpoint``
    runs inside ``Runner.load_or_resume()``, after the dataloaders are built
    but before two things that would overwrite or shift a restored state:
    ``Runner.resume()`` calls ``set_randomness()`` again when the seed in the
    checkpoint differs from the config's, and ``TwoStageTrainLoop`` builds
    the stage-2 batch iterator (``iter(DataLoader)`` draws a base seed from
    torch's global generator) after the resume. So the states are only kept
    in ``after_load_checkpoint`` and put back in the first
    ``before_train_iter`` of the resumed run (this hook runs first there),
    i.e. just before the first resumed forward pass, which is where the
    uninterrupted run stood when it wrote the checkpoint.

    For the same reason the hook gives the train dataloaders their own
    ``torch.Generator`` (seeded from the run's seed) in ``before_train``: an
    epoch's batch iterator then no longer draws from the global generator,
    so starting a stage-2 epoch consumes nothing that dropout uses, and a
    checkpoint written at the end of an epoch resumes exactly like one from
    mid-epoch. That draw only seeds worker processes, and MMEngine's
    ``worker_init_fn`` reseeds every worker from the run's seed anyway.

    What the hook does not need to cover: the stage-1 batch order
    (``InfiniteSampler`` + ``LengthBucketBatchSampler`` are replayed by
    skipping batches), the stage-2 order (``DefaultSampler`` seeded with
    seed + epoch), the stage-2 proposal sampler (seeded by the model's
    ``stage2_steps`` buffer) and the mining (own seeded generator).

    Args:
        restore (bool): restore the states on resume. Defaults to True.
    """

    priority = 'HIGHEST'

    def __init__(self, restore: bool = True) -> None:
        self.restore = restore
        self._pending: Optional[dict] = None
        self._gathered: Optional[list] = None

    # -------------------------------------------------------------- saving
    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        # Only rank 0 runs before_save_checkpoint, so a collective cannot go
        # there; gather here (HIGHEST priority: before CheckpointHook saves,
        # with nothing drawing from the generators in between).
        _, world_size = get_dist_info()
        if world_size > 1:
            self._gathered = all_gather_object(get_rng_state())

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        _, world_size = get_dist_info()
        if world_size > 1 and self._gathered is not None:
            checkpoint[RNG_KEY] = dict(per_rank=self._gathered)
        else:
            checkpoint[RNG_KEY] = dict(per_rank=[get_rng_state()])

    # ----------------------------------------------------------- restoring
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not self.restore or not getattr(runner, '_resume', False):
            return  # load_from / testing: the run keeps its own seed
        saved = checkpoint.get(RNG_KEY)
        if saved is None:
            print_log(
                'resuming from a checkpoint without RNG states '
                f'("{RNG_KEY}"; written without RNGStateHook): the run '
                'continues, but its dropout masks differ from those of an '
                'uninterrupted run', logger='current', level=30)
            return
        rank, world_size = get_dist_info()
        per_rank = saved['per_rank']
        if len(per_rank) == world_size:
            self._pending = per_rank[rank]
        else:
            print_log(
                f'the checkpoint holds RNG states of {len(per_rank)} '
                f'process(es) but this run has {world_size}: RNG states not '
                'restored (results differ from an uninterrupted run)',
                logger='current', level=30)

    def before_train(self, runner) -> None:
        loops = runner.train_loop
        loaders = [getattr(loops, 'dataloader', None),
                   getattr(loops, 'stage2_dataloader', None)]
        seed = int(runner.seed or 0)
        for i, loader in enumerate(loaders):
            if loader is not None and \
                    getattr(loader, 'generator', 'absent') is None:
                loader.generator = torch.Generator().manual_seed(seed + i)

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if self._pending is None:
            return
        skipped = set_rng_state(self._pending)
        self._pending = None
        msg = 'restored the RNG states of the checkpoint'
        if skipped:
            msg += (f' (not {", ".join(skipped)}: saved on another number of '
                    'devices)')
        print_log(msg, logger='current')
