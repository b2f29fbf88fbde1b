"""PrototypeInitHook: each prototype becomes the mean embedded feature (RAB
output with zero prototypes) at its class's point snippets."""
import types

import pytest
import torch

from engine._stage1_data import C, VIDEOS, PackedDataset, small_model
from hrpro_plugin.engine.hooks.prototype_init_hook import PrototypeInitHook
from hrpro_plugin.models.localizers.non_finite import NonFiniteLossError


def _runner(model, dataset):
    return types.SimpleNamespace(
        model=model,
        train_dataloader=types.SimpleNamespace(dataset=dataset))


def test_prototypes_are_the_point_means_of_the_embedded_features():
    model = small_model(prototypes=False)
    model.train()
    ds = PackedDataset()
    # reference: each video alone, zero prototypes, eval mode
    ref_model = small_model(prototypes=False)
    sums, counts = torch.zeros(C, 16), torch.zeros(C)
    with torch.no_grad():
        for item, (T, pts) in zip(ds.items, VIDEOS):
            x = item['inputs'][None]
            emb = ref_model.extract(
                x, torch.ones(1, T, dtype=torch.bool))['embedded'][0]
            for t, c in pts:
                sums[c] += emb[t]
                counts[c] += 1
    assert counts.tolist() == [2, 2, 2]
    PrototypeInitHook(batch_size=2).before_train(_runner(model, ds))
    assert bool(model.memory.initialized)
    torch.testing.assert_close(model.memory.prototypes, sums / counts[:, None],
                               rtol=0, atol=1e-5)
    assert model.training       # put back as it was
    assert float(model.memory.prototypes.abs().sum()) > 0


def test_restored_memory_is_kept():
    model = small_model(prototypes=True)
    before = model.memory.prototypes.clone()
    PrototypeInitHook().before_train(_runner(model, PackedDataset()))
    assert torch.equal(model.memory.prototypes, before)


def test_non_finite_features_are_named():
    model = small_model(prototypes=False)
    ds = PackedDataset()
    ds.items[1]['inputs'][4, 0] = float('nan')
    with pytest.raises(NonFiniteLossError, match='v1.*not finite'):
        PrototypeInitHook(batch_size=2).before_train(_runner(model, ds))
