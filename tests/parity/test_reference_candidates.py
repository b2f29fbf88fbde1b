"""Stage-1 proposals against the reference: upsampling (with its linear
extrapolation), thresholds, runs and OIC scores, the whole candidate list
of a video, in the reference's order."""
import numpy as np
import pytest
import torch

from hrpro_plugin.models.proposals.candidates import (generate_candidates,
                                                      oic_scores,
                                                      upsample_linear)

from _vectors import load

VEC = load('candidates')
VIDEOS = VEC['inputs']['videos']


def _inputs(v):
    cas_fuse = torch.tensor(v['cas_fuse'], dtype=torch.float32)
    fused = cas_fuse[None, :, :-1]
    attn = 1 - cas_fuse[None, :, -1]
    vs = torch.tensor(v['vid_score'], dtype=torch.float32)[None]
    mask = torch.ones(1, cas_fuse.shape[0], dtype=torch.bool)
    return fused, attn, vs, mask


@pytest.mark.parametrize('v', VIDEOS, ids=[v['name'] for v in VIDEOS])
def test_upsampling_matches_reference(v):
    x = torch.tensor(v['cas_fuse'], dtype=torch.float64)[None]
    up, m = upsample_linear(x, torch.ones(1, x.shape[1], dtype=torch.bool))
    exp = np.asarray(VEC['outputs']['upsampled'][v['name']])
    assert m.all()
    # the reference subtracts neighbours in float32 before interpolating in
    # float64: ~1e-8 apart
    np.testing.assert_allclose(up[0].numpy(), exp, rtol=0, atol=1e-7)


@pytest.mark.parametrize('v', VIDEOS, ids=[v['name'] for v in VIDEOS])
def test_candidate_list_matches_reference(v):
    """Every candidate, in the reference's order (class, P thresholds then
    A thresholds, start), with its seconds and OIC."""
    fused, attn, vs, mask = _inputs(v)
    # the reference skips a threshold whose only position above it is the
    # first one; by default we keep that candidate
    out = generate_candidates(fused, attn, vs, mask, drop_lone_first=True)
    exp = np.asarray(VEC['outputs']['candidates'][v['name']]).reshape(-1, 4)
    assert out['start'].numel() == exp.shape[0] > 0
    np.testing.assert_allclose(out['start'].numpy() * 0.64, exp[:, 0],
                               rtol=0, atol=1e-5)
    np.testing.assert_allclose(out['end'].numpy() * 0.64, exp[:, 1],
                               rtol=0, atol=1e-5)
    assert out['label'].tolist() == exp[:, 2].astype(int).tolist()
    # float32 CAS, float64 arithmetic on both sides
    np.testing.assert_allclose(out['score'].numpy(), exp[:, 3],
                               rtol=0, atol=1e-6)


def test_short_runs_have_a_left_outer_region():
    """The reference's rounding: ceil(n / 4) outer positions on the left,
    floor(n / 4) on the right. Runs of 1-3 positions still have one on the
    left (flooring both sides would score them by their raw mean)."""
    sig = torch.tensor([[1., 2., 3., 4., 5., 6., 7., 8.]])
    row = torch.zeros(4, dtype=torch.long)
    start = torch.tensor([3, 5, 1, 2])
    end = torch.tensor([4, 8, 6, 8])      # n = 1, 3, 5, 6
    got = oic_scores(sig, row, start, end, torch.tensor([8]), 0.25)
    # n=1 [3]: inner 4, left {2}: 3 -> 1
    # n=3 [5,8): inner 7, left {4}: 5, right none (floor .75) -> 2
    # n=5 [1,6): inner 4, left ceil(1.25)=2 -> {0}: 1 (clipped), right
    #            floor(1.25)=1 -> {6}: 7 -> outer 4 -> 0
    # n=6 [2,8): inner 5.5, left 2 {0,1}: 1.5, right 1 clipped -> 4
    torch.testing.assert_close(got, torch.tensor([1., 2., 0., 4.]))


def test_lone_first_position_kept_by_default():
    v = VIDEOS[0]
    fused, attn, vs, mask = _inputs(v)
    ours = generate_candidates(fused, attn, vs, mask)
    ref = generate_candidates(fused, attn, vs, mask, drop_lone_first=True)
    extra = ours['start'].numel() - ref['start'].numel()
    assert extra > 0
    lone = (ours['start'] == 0) & (ours['end'] == 0.5)
    assert int(lone.sum()) == extra
