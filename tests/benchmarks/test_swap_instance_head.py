"""``benchmarks/parity/swap_instance_head.py``: the stage-1 tensors of the
checkpoint stay as they are, the instance head is rebuilt from the config
(shapes of the new head; the same seed gives the same head)."""
import pytest
import torch
from mmengine.config import Config

from _helpers import load_script
from _tiny_hrpro import C, D, tiny_hrpro


@pytest.fixture(scope='module')
def swap():
    return load_script('benchmarks/parity/swap_instance_head.py',
                       'swap_instance_head_under_test')


def _cfg(**head):
    return Config(dict(model=dict(
        type='HRPro', feat_dim=None, num_classes=None,
        neck=dict(type='RABNeck', num_heads=4), head=dict(type='SnippetHead'),
        instance_head=dict(type='InstanceHead', **head),
        instance_loss=dict(type='InstanceLoss'))))


def test_head_replaced_rest_kept(swap):
    old = tiny_hrpro().state_dict()
    new = swap.swapped_state(_cfg(hidden_score=None, hidden_reg=None), old,
                             C, seed=1)
    assert set(new) == set(old)
    for k, v in old.items():
        if not k.startswith('instance_head.'):
            assert torch.equal(new[k], v), k
    # (D, D/2) and D/2 = (16, 8) and 8, instead of (32, 16) and 16
    assert new['instance_head.score_head.0.weight'].shape == (D, 3 * D)
    assert new['instance_head.score_head.3.weight'].shape == (D // 2, D)
    assert new['instance_head.start_reg.0.weight'].shape == (D // 2, D)
    assert old['instance_head.start_reg.0.weight'].shape == (16, D)
    again = swap.swapped_state(_cfg(hidden_score=None, hidden_reg=None), old,
                               C, seed=1)
    other = swap.swapped_state(_cfg(hidden_score=None, hidden_reg=None), old,
                               C, seed=2)
    key = 'instance_head.start_reg.0.weight'
    assert torch.equal(again[key], new[key])
    assert not torch.equal(other[key], new[key])
