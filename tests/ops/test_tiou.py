"""Hand-computed tIoU (continuous convention, no "+1")."""
import numpy as np
import pytest
import torch

from hrpro_plugin.ops import fit_kind, pairwise_tiou, pairwise_tiou_np

# (a, b, tIoU) worked by hand: inter / (len_a + len_b - inter)
CASES = [
    ([0., 1.], [2., 3.], 0.0),  # disjoint: inter 0
    ([0., 1.], [1., 2.], 0.0),  # touching: inter = 1 - 1 = 0
    ([0., 10.], [2., 4.], 0.2),  # nested: 2 / (10 + 2 - 2)
    ([3., 7.], [3., 7.], 1.0),  # identical: 4 / 4
    ([0., 4.], [2., 6.], 2. / 6.),  # partial: 2 / (4 + 4 - 2)
    ([1., 1.], [0., 2.], 0.0),  # zero-length inside: 0 / (0 + 2 - 0)
    ([1., 1.], [1., 1.], 0.0),  # two zero-length: empty union -> 0
    ([0.5, 2.0], [1.0, 3.5], 1.0 / 3.0),  # 1.0 / (1.5 + 2.5 - 1.0)
]


@pytest.mark.parametrize('a,b,expected', CASES)
def test_pairwise_tiou_np_cases(a, b, expected):
    got = pairwise_tiou_np(np.array([a]), np.array([b]))
    assert got.shape == (1, 1)
    assert got[0, 0] == pytest.approx(expected, abs=1e-12)
    # symmetric
    assert pairwise_tiou_np(np.array([b]), np.array([a]))[0, 0] == \
        pytest.approx(expected, abs=1e-12)


def test_pairwise_tiou_torch_matches_numpy_and_batches():
    a = np.array([c[0] for c in CASES])
    b = np.array([c[1] for c in CASES])
    ref = pairwise_tiou_np(a, b)
    assert np.allclose(np.diag(ref), [c[2] for c in CASES], atol=1e-12)
    got = pairwise_tiou(torch.tensor(a), torch.tensor(b))
    assert got.shape == (len(CASES), len(CASES))
    assert np.allclose(got.numpy(), ref, atol=1e-12)
    # leading batch dimension
    batched = pairwise_tiou(torch.tensor(np.stack([a, a])),
                            torch.tensor(np.stack([b, b])))
    assert batched.shape == (2, len(CASES), len(CASES))
    assert np.allclose(batched[1].numpy(), ref, atol=1e-12)


def test_pairwise_tiou_np_empty():
    assert pairwise_tiou_np(np.zeros((0, 2)), np.array([[0., 1.]])).shape \
        == (0, 1)
    assert pairwise_tiou_np(np.array([[0., 1.]]), np.zeros((0, 2))).shape \
        == (1, 0)


def test_fit_kind_by_hand():
    inst = torch.tensor([[2.0, 6.0]] * 5, dtype=torch.float64)
    boxes = torch.tensor([[1.0, 7.0], [3.0, 5.0], [1.0, 5.0], [2.0, 6.0],
                          [2.0 + 1e-7, 6.0]], dtype=torch.float64)
    # holds; inside; crosses the end; exact fit counts as holding; a start
    # 1e-7 late is within the default eps (holds) but not within 1e-9
    assert fit_kind(boxes, inst).tolist() == [0, 1, 2, 0, 0]
    assert fit_kind(boxes, inst, eps=1e-9).tolist() == \
        [0, 1, 2, 0, 1]
    assert fit_kind(boxes[:0], inst[:0]).tolist() == []
