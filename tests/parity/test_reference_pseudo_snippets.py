"""Pseudo action / background snippets against the reference's
``select_seed`` (background threshold 0.95, action threshold 0.1)."""
import numpy as np
import pytest
import torch

from hrpro_plugin.models.snippet_level.pseudo_snippets import mine_pseudo_snippets

from _vectors import load

CASES = load('pseudo_snippets')['outputs']['cases']


@pytest.mark.parametrize('i', range(len(CASES)))
def test_seeds_match_reference(i):
    c = CASES[i]
    bkg = torch.tensor(c['bkg'], dtype=torch.float32)[None]
    anno = torch.tensor(c['point_anno'], dtype=torch.float32)[None]
    mask = torch.ones(bkg.shape, dtype=torch.bool)
    act, bg = mine_pseudo_snippets(anno, bkg, mask)
    np.testing.assert_array_equal(bg[0].numpy().astype(float),
                                  np.asarray(c['bkg_seed']))
    np.testing.assert_array_equal(act[0].numpy(), np.asarray(c['act_seed']))


def test_cases_cover_both_seed_kinds():
    assert all(np.asarray(c['bkg_seed']).any() for c in CASES)
    spread = [np.asarray(c['act_seed']).sum() > np.asarray(c['point_anno']).sum()
              for c in CASES]
    assert any(spread)
