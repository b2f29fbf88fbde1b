"""Initialises the prototype memory from the point snippets of the train set."""
import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmaction.registry import HOOKS
from ..utils import iterate_dataset, unwrap
from ...models.localizers.non_finite import (NonFiniteLossError,
                                             bad_feature_videos)


@HOOKS.register_module()
class PrototypeInitHook(Hook):
    """Before the first step, run the model in eval mode over the train set
    with all prototypes zero; each prototype becomes the mean embedded
    feature at that class's point snippets (docs/method.md, "Stage 1").

    Skipped when the memory is already initialised (a resumed run restores
    it from the checkpoint). Under multi-process training the per-class sums
    and counts are all-reduced, so every process holds the same memory.

    Args:
        batch_size (int): videos per forward pass. Defaults to 16.
    """

    priority = 'VERY_HIGH'

    def __init__(self, batch_size: int = 16):
        self.batch_size = batch_size

    def before_train(self, runner) -> None:
        model = unwrap(runner.model)
        memory = getattr(model, 'memory', None)
        if memory is None:
            return
        if bool(memory.initialized):
            print_log('prototype memory restored from checkpoint; '
                      'skipping its initialisation', logger='current')
            return
        if getattr(model, 'neck', None) is None and \
                getattr(model, 'contrastive_loss', None) is None:
            # neither the RAB tokens nor L_contra read the memory (ablation
            # "L_base"): keep it zero, but mark it initialised.
            memory.initialized.fill_(True)
            return
        dataset = runner.train_dataloader.dataset
        was_training = model.training
        model.eval()
        memory.prototypes.zero_()
        C, D = memory.prototypes.shape
        device = memory.prototypes.device
        sums = torch.zeros(C, D, device=device)
        counts = torch.zeros(C, device=device)
        non_finite, bad_features = [], []
        with torch.no_grad():
            for data in iterate_dataset(dataset, self.batch_size,
                                        progress='initialising prototypes'):
                data = model.data_preprocessor(data, False)
                inputs, samples = data['inputs'], data['data_samples']
                sp = model.snippet_pass(inputs, samples, points=True)
                emb = sp.outputs['embedded'].float() * sp.mask[..., None]
                ok = torch.isfinite(emb).flatten(1).all(1).tolist()
                names = [ds.metainfo.get('video_name') for ds in samples]
                if not all(ok):
                    non_finite += [str(n) for n, o in zip(names, ok) if not o]
                    bad_features += bad_feature_videos(inputs, names)
                s, c = memory.accumulate_init(sp.outputs['embedded'].float(),
                                              sp.point_labels, sp.mask)
                sums += s
                counts += c
        if non_finite:
            raise NonFiniteLossError(
                'non-finite stage-1 outputs while initialising the '
                f'prototype memory, for videos {", ".join(non_finite)}; '
                + (f'their features are not finite or above 1e6 in: '
                   f'{", ".join(bad_features)}. Fix those feature files.'
                   if bad_features else 'their features are finite: check '
                   'the model\'s weights (load_from).'))
        all_reduce(sums)
        all_reduce(counts)
        memory.init_from_sums(sums, counts)
        model.train(was_training)
        print_log(f'prototype memory initialised from {int(counts.sum())} '
                  f'point snippets of {len(dataset)} videos', logger='current')
