"""Soft-NMS with the reference's "+1" convention and the reference's
ambiguous-segment rule, against the reference's outputs."""
import numpy as np
import pytest
import torch

from hrpro_plugin.evaluation.functional.ap import filter_ambiguous
from hrpro_plugin.models.postprocessing.soft_nms import batched_soft_nms

from _vectors import load

NMS = load('soft_nms')['outputs']['groups']
AMB = load('ambiguous')


@pytest.mark.parametrize('i', range(len(NMS)))
def test_soft_nms_plus_one_matches_reference(i):
    dets = np.asarray(NMS[i]['dets'])
    kept = np.asarray(NMS[i]['kept']).reshape(-1, 4)
    n = dets.shape[0]
    keep, scores = batched_soft_nms(
        torch.tensor(dets[:, :2]), torch.tensor(dets[:, 3]),
        torch.zeros(n, dtype=torch.long), torch.zeros(n, dtype=torch.long),
        sigma=0.3, length_offset=1.0)
    assert keep.numel() == kept.shape[0] == n
    np.testing.assert_allclose(dets[keep.numpy(), :2], kept[:, :2])
    np.testing.assert_allclose(scores.numpy(), kept[:, 3], rtol=1e-12)


def test_soft_nms_continuous_differs_from_reference():
    """The default (continuous tIoU) is a deliberate departure."""
    dets = np.asarray(NMS[3]['dets'])
    kept = np.asarray(NMS[3]['kept']).reshape(-1, 4)
    n = dets.shape[0]
    _, scores = batched_soft_nms(
        torch.tensor(dets[:, :2]), torch.tensor(dets[:, 3]),
        torch.zeros(n, dtype=torch.long), torch.zeros(n, dtype=torch.long))
    assert not np.allclose(np.sort(scores.numpy()), np.sort(kept[:, 3]))


def test_plus_one_hand_made():
    # two 2 s boxes 1 s apart: tIoU 0.5 with "+1" (inter 2, lengths 3),
    # 1/3 without; the second keeps exp(-t^2 / 0.3) of its score
    seg = torch.tensor([[0., 2.], [1., 3.]])
    sc = torch.tensor([1.0, 0.8], dtype=torch.float64)
    z = torch.zeros(2, dtype=torch.long)
    for off, iou in ((1.0, 0.5), (0.0, 1 / 3)):
        _, s = batched_soft_nms(seg, sc, z, z, length_offset=off)
        assert s[1].item() == pytest.approx(0.8 * np.exp(-iou ** 2 / 0.3))
    # boxes 0.5 s apart do not overlap, but interact under "+1"
    seg = torch.tensor([[0., 2.], [2.5, 4.]])
    _, s = batched_soft_nms(seg, sc, z, z, length_offset=1.0)
    # inter 2 - 2.5 + 1 = 0.5, lengths 3 and 2.5: tIoU 0.5 / 5
    assert s[1].item() == pytest.approx(0.8 * np.exp(-0.1 ** 2 / 0.3))
    _, s = batched_soft_nms(seg, sc, z, z)
    assert s[1].item() == pytest.approx(0.8)


def test_ambiguous_reference_rule_matches_reference():
    segs = np.asarray(AMB['inputs']['segments'])
    amb = np.asarray(AMB['inputs']['ambiguous'])
    kept = np.asarray(AMB['outputs']['kept'])
    n = segs.shape[0]
    out = filter_ambiguous({'v': (segs, np.zeros(n), np.ones(n))},
                           {'v': amb}, rule='reference')
    np.testing.assert_allclose(out['v'][0], kept)
    assert 0 < kept.shape[0] < n
    # the default rule drops more (any overlap of positive length)
    default = filter_ambiguous({'v': (segs, np.zeros(n), np.ones(n))},
                               {'v': amb})
    assert default['v'][0].shape[0] < kept.shape[0]


def test_ambiguous_rule_hand_made():
    amb = {'v': np.array([[10.4, 12.6]])}   # whole seconds {10, 11, 12}
    segs = np.array([[12.2, 12.9],   # int -> range(12, 12): empty: kept
                     [12.0, 13.5],   # {12}: dropped
                     [13.0, 15.0],   # {13, 14}: kept (overlap rule too)
                     [9.0, 10.5]])   # {9}: kept by reference rule only
    n = len(segs)
    ref = filter_ambiguous({'v': (segs, np.arange(n), np.ones(n))}, amb,
                           rule='reference')
    assert ref['v'][1].tolist() == [0, 2, 3]
    ovl = filter_ambiguous({'v': (segs, np.arange(n), np.ones(n))}, amb)
    assert ovl['v'][1].tolist() == [2]
    with pytest.raises(ValueError, match='ambiguous rule'):
        filter_ambiguous({'v': (segs, np.arange(n), np.ones(n))}, amb,
                         rule='iou')
