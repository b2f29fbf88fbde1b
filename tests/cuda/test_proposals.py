"""Pseudo snippets, candidate proposals / OIC, RoI-align and soft-NMS on
the test device equal the CPU (and, for soft-NMS, the NumPy reference)."""
import contextlib

import numpy as np
import pytest
import torch

from _devices import (NMS32_ATOL, NMS64_ATOL, OIC_ATOL, ROI_ATOL,
                      assert_close, stage1_like)
from hrpro_plugin.models.proposals.candidates import (generate_candidates,
                                                      oic_scores)
from hrpro_plugin.models.snippet_level.pseudo_snippets import mine_pseudo_snippets
from hrpro_plugin.models.instance_level.roi_align import roi_align_1d
from hrpro_plugin.models.postprocessing.soft_nms import (SoftNMSPostProcessor,
                                                    batched_soft_nms,
                                                    soft_nms_reference)

pytestmark = pytest.mark.cuda


def _to(device, *tensors):
    return [t.to(device) for t in tensors]


@contextlib.contextmanager
def deterministic_algorithms():
    """torch.use_deterministic_algorithms(True), restored afterwards."""
    was = torch.are_deterministic_algorithms_enabled()
    warn = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(was, warn_only=warn)


# ------------------------------------------------------------ pseudo snippets
def test_pseudo_snippets_match(device):
    g = torch.Generator().manual_seed(4)
    B, T, C = 3, 50, 4
    lengths = torch.tensor([50, 38, 21])
    mask = torch.arange(T)[None] < lengths[:, None]
    point_labels = torch.zeros(B, T, C)
    for b in range(B):
        idx = torch.randperm(int(lengths[b]), generator=g)[:4]
        point_labels[b, idx, torch.randint(0, C, (4,), generator=g)] = 1.0
    # background probabilities hitting both thresholds (0.95 and 0.1)
    bg = torch.rand(B, T, generator=g) ** 0.5
    bg[torch.rand(B, T, generator=g) < 0.2] = 0.97
    bg[torch.rand(B, T, generator=g) < 0.2] = 0.03
    ref = mine_pseudo_snippets(point_labels, bg, mask)
    got = mine_pseudo_snippets(*_to(device, point_labels, bg, mask))
    assert got[0].device.type == device.type
    assert int(ref[0].sum()) > 10 and int(ref[1].sum()) > 10  # not trivial
    assert torch.equal(got[0].cpu(), ref[0])   # act labels: exact
    assert torch.equal(got[1].cpu(), ref[1])   # background seeds: exact


# ---------------------------------------------------------------- candidates
@pytest.mark.parametrize('deterministic', [False, True])
def test_candidates_match(device, deterministic):
    """Exact runs (starts, ends, classes, videos) and OIC within OIC_ATOL;
    with deterministic algorithms on, CUDA sums the OIC prefix sums in
    fixed point (2^-32 steps) instead of a float cumsum."""
    cas, attn, video, mask = stage1_like()
    ref = generate_candidates(cas, attn, video, mask)
    ctx = deterministic_algorithms() if deterministic else \
        contextlib.nullcontext()
    with ctx:
        got = generate_candidates(*_to(device, cas, attn, video, mask))
    assert ref['score'].numel() > 100
    assert set(got) == set(ref)
    for key in ('batch_idx', 'label', 'start', 'end'):
        assert got[key].device.type == device.type
        assert torch.equal(got[key].cpu(), ref[key]), key
    assert_close(got['score'], ref['score'], atol=OIC_ATOL, what='OIC')


@pytest.mark.parametrize('deterministic', [False, True])
def test_oic_scores_match(device, deterministic):
    g = torch.Generator().manual_seed(5)
    R, U = 4, 400
    signal = torch.rand(R, U, generator=g)
    valid = torch.tensor([400, 333, 250, 17])
    signal = signal * (torch.arange(U)[None] < valid[:, None])
    row = torch.randint(0, R, (200,), generator=g)
    start = (torch.rand(200, generator=g) * valid[row]).long()
    end = torch.minimum(start + 1 + (torch.rand(200, generator=g) * 40)
                        .long(), valid[row])
    ref = oic_scores(signal, row, start, end, valid)
    # float64 NumPy known answer for a few runs
    s = signal.double().numpy()
    for i in range(0, 200, 37):
        r, a, b = int(row[i]), int(start[i]), int(end[i])
        n = b - a
        lo = max(0, a - int(np.ceil(0.25 * n)))
        hi = min(int(valid[r]), b + int(np.floor(0.25 * n)))
        outer = np.r_[s[r, lo:a], s[r, b:hi]]
        exp = s[r, a:b].mean() - (outer.mean() if outer.size else 0.0)
        assert abs(float(ref[i]) - exp) < 1e-6
    ctx = deterministic_algorithms() if deterministic else \
        contextlib.nullcontext()
    with ctx:
        got = oic_scores(*_to(device, signal, row, start, end, valid))
    assert_close(got, ref, atol=OIC_ATOL, what='OIC')


# ----------------------------------------------------------------- RoI-align
def test_roi_align_and_its_gradient_match(device):
    g = torch.Generator().manual_seed(6)
    B, T, D, N = 3, 45, 8, 120
    feats = torch.randn(B, T, D, generator=g)
    lengths = torch.tensor([45, 30, 12])
    mask = torch.arange(T)[None] < lengths[:, None]
    feats = feats * mask[..., None]
    bidx = torch.randint(0, B, (N,), generator=g)
    start = torch.rand(N, generator=g) * lengths[bidx] - 2.0
    end = start + 0.3 + torch.rand(N, generator=g) * 20.0
    weights = torch.randn(N, 12, D, generator=g)

    def run(f, m, b, s, e, w):
        f = f.clone().requires_grad_(True)
        out = roi_align_1d(f, m, b, s, e, num_bins=12)
        (out * w).sum().backward()
        return out.detach(), f.grad

    ref, ref_grad = run(feats, mask, bidx, start, end, weights)
    got, got_grad = run(*_to(device, feats, mask, bidx, start, end, weights))
    assert got.device.type == device.type
    assert float(ref.abs().max()) > 0.1
    assert_close(got, ref, atol=ROI_ATOL, what='bins')
    # the backward pass scatters into the features (atomics on CUDA)
    assert_close(got_grad, ref_grad, atol=10 * ROI_ATOL, rtol=1e-6,
                 what='d bins / d features')


# ------------------------------------------------------------------ soft-NMS
def _nms_inputs(dtype, n=400, videos=3, classes=4, seed=7):
    g = torch.Generator().manual_seed(seed)
    centre = torch.rand(n, generator=g, dtype=torch.float64) * 60
    width = torch.rand(n, generator=g, dtype=torch.float64) * 8 + 0.2
    seg = torch.stack([centre - width / 2, centre + width / 2], 1).to(dtype)
    scores = (torch.rand(n, generator=g, dtype=torch.float64) * 0.9
              + 0.1).to(dtype)
    labels = torch.randint(0, classes, (n,), generator=g)
    bidx = torch.randint(0, videos, (n,), generator=g)
    return seg, scores, labels, bidx


def test_soft_nms_float64_matches_reference(device):
    seg, scores, labels, bidx = _nms_inputs(torch.float64)
    keep, new = batched_soft_nms(*_to(device, seg, scores, labels, bidx),
                                 sigma=0.3)
    ref_keep, ref_new = batched_soft_nms(seg, scores, labels, bidx, sigma=0.3)
    assert keep.device.type == device.type
    assert torch.equal(keep.cpu(), ref_keep)
    assert_close(new, ref_new, atol=NMS64_ATOL, what='soft-NMS scores')
    # and the per-group NumPy reference, for two groups
    for v, c in ((0, 0), (2, 3)):
        members = torch.nonzero((bidx == v) & (labels == c)).flatten()
        order, final = soft_nms_reference(seg[members].numpy(),
                                          scores[members].numpy(), 0.3)
        in_group = (bidx[keep.cpu()] == v) & (labels[keep.cpu()] == c)
        assert keep.cpu()[in_group].tolist() == members[order].tolist()
        np.testing.assert_allclose(new.cpu()[in_group].numpy(), final,
                                   rtol=0, atol=1e-9)
        assert (final < scores[members].numpy()[order] - 1e-3).any()


def test_soft_nms_float32_and_post_processor_match(device):
    seg, scores, labels, bidx = _nms_inputs(torch.float32, seed=8)
    ref_keep, ref_new = batched_soft_nms(seg, scores, labels, bidx, sigma=0.3)
    keep, new = batched_soft_nms(*_to(device, seg, scores, labels, bidx),
                                 sigma=0.3)
    # every proposal is kept (no top_k / min_score): compare the final
    # score of each input proposal
    n = len(scores)
    final_ref = torch.empty(n)
    final_ref[ref_keep] = ref_new
    final = torch.empty(n)
    final[keep.cpu()] = new.cpu()
    assert sorted(keep.cpu().tolist()) == list(range(n))
    assert_close(final, final_ref, atol=NMS32_ATOL, what='soft-NMS scores')
    post = SoftNMSPostProcessor(sigma=0.3, top_k=50, min_score=0.05)
    ref_k, ref_s = post(seg, scores, labels, bidx)
    got_k, got_s = post.to(device)(*_to(device, seg, scores, labels, bidx))
    assert len(ref_k) <= 3 * 50 and len(ref_k) > 0
    assert torch.equal(got_k.cpu(), ref_k)
    assert_close(got_s, ref_s, atol=NMS32_ATOL, what='top-k scores')
