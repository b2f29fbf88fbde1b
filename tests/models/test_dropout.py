import pytest
import torch
from torch import nn

from hrpro_plugin.models.dropout import FastDropout, dropout_keep_mask


def test_dropout_keep_mask_rate():
    torch.manual_seed(0)
    keep = dropout_keep_mask((4, 50, 1001), 0.1, torch.device('cpu'))
    assert keep.shape == (4, 50, 1001) and keep.dtype == torch.bool
    # 200,200 Bernoulli(0.9) draws: std of the rate is 6.7e-4
    assert abs(keep.float().mean().item() - 0.9) < 0.004
    torch.manual_seed(0)
    again = dropout_keep_mask((4, 50, 1001), 0.1, torch.device('cpu'))
    assert torch.equal(keep, again)     # the global seed decides it


@pytest.mark.parametrize('chunk', [4, 1000, 4096 + 8, 1 << 30])
def test_dropout_keep_mask_chunks_do_not_change_the_mask(chunk):
    torch.manual_seed(1)
    whole = dropout_keep_mask((3, 101, 7), 0.3, torch.device('cpu'),
                              chunk=1 << 30)
    torch.manual_seed(1)
    chunked = dropout_keep_mask((3, 101, 7), 0.3, torch.device('cpu'),
                                chunk=chunk)
    assert torch.equal(whole, chunked)


def test_fast_dropout_is_an_nn_dropout_and_identity_in_eval():
    drop = FastDropout(0.7)
    assert isinstance(drop, nn.Dropout) and drop.p == 0.7
    assert dict(drop.state_dict()) == {}
    x = torch.randn(5, 6)
    assert torch.equal(drop.eval()(x), x)


def test_fast_dropout_training_values_rate_and_gradient():
    drop = FastDropout(0.3).train()
    x = torch.rand(200, 1000) + 0.5               # no zeros in the input
    x.requires_grad_(True)
    torch.manual_seed(2)
    y = drop(x)
    kept = y != 0
    # kept elements are scaled by 1 / (1 - p), the others are zero
    torch.testing.assert_close(y[kept], x[kept] / 0.7)
    assert abs(kept.float().mean().item() - 0.7) < 0.005
    y.sum().backward()
    torch.testing.assert_close(x.grad, kept.float() / 0.7)
    # the same seed gives the same mask as dropout_keep_mask
    torch.manual_seed(2)
    assert torch.equal(kept, dropout_keep_mask(x.shape, 0.3, x.device))


def test_fast_dropout_edge_probabilities_and_inplace():
    x = torch.randn(4, 5)
    assert torch.equal(FastDropout(0.0).train()(x), x)
    assert torch.equal(FastDropout(1.0).train()(x), torch.zeros_like(x))
    y = x.clone()
    out = FastDropout(0.5, inplace=True).train()(y)
    assert out.data_ptr() == y.data_ptr()
    assert set(torch.unique(out / x).tolist()) <= {0.0, 2.0}
