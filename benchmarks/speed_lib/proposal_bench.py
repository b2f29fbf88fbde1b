"""Our batched proposal generation and soft-NMS against the per-proposal
NumPy/Python references of ``benchmarks/_naive.py``, on the inputs a
:class:`~speed_lib.recorder.Recorder` kept during the test: both are timed
and their outputs are checked to agree (same count, 1e-5)."""
import os.path as osp
import sys
import time

import numpy as np
import torch

from hrpro_plugin.models.postprocessing.soft_nms import batched_soft_nms
from hrpro_plugin.models.proposals.candidates import generate_candidates

BENCH_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))
if BENCH_DIR not in sys.path:
    sys.path.insert(0, BENCH_DIR)
import _naive  # noqa: E402  (benchmarks/_naive.py)


def time_best(fn, repeats, sync, warmup):
    """Best wall time of ``repeats`` calls of ``fn`` and the last result."""
    if warmup:  # CUDA: first calls pay for kernel loading / allocator
        fn()
        sync()
    best, result = float('inf'), None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        result = fn()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best, result


def largest_overlap_component(seg: np.ndarray) -> int:
    """Largest set of transitively overlapping segments of one group."""
    if len(seg) == 0:
        return 0
    o = np.argsort(seg[:, 0], kind='stable')
    s, e = seg[o, 0], seg[o, 1]
    run_end = np.maximum.accumulate(e)
    new = np.r_[True, s[1:] >= run_end[:-1]]
    ids = np.cumsum(new)
    return int(np.bincount(ids).max())


class _Clock:
    """Times ours on the device (and on the CPU when it is CUDA)."""

    def __init__(self, device: str, repeats: int):
        self.cuda = device == 'cuda'
        self.repeats = repeats

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize()

    def ours(self, run, dev_inputs, cpu_inputs):
        """``(device seconds, device outputs, cpu seconds)``."""
        t_dev, out = time_best(lambda: run(dev_inputs), self.repeats,
                               self.sync, self.cuda)
        t_cpu = (time_best(lambda: run(cpu_inputs), self.repeats,
                           lambda: None, False)[0] if self.cuda else t_dev)
        return t_dev, out, t_cpu


def _timings(t_dev, t_cpu, t_naive) -> dict:
    return dict(ours_device_s=t_dev, ours_cpu_s=t_cpu, naive_s=t_naive,
                ratio_device=t_naive / t_dev, ratio_cpu=t_naive / t_cpu)


def _verdict(worst, error) -> str:
    return (f'agree (max diff {worst:.2g})' if error is None else
            f'DIFFER: {error}')


def bench_candidates(recorded, clock: _Clock, device: str) -> dict:
    """Candidate generation: ours against ``naive_generate_candidates``."""
    cand_cpu = [tuple(t.cpu() for t in c[:4]) + (c[4], ) for c in recorded]
    cand_np = [(c[0].float().numpy(), c[1].float().numpy(),
                c[2].float().numpy(), c[3].long().sum(1).numpy(), c[4])
               for c in cand_cpu]

    def run(inputs):
        return [generate_candidates(f, a, v, m, **cfg)
                for f, a, v, m, cfg in inputs]

    t_dev, ours_out, t_cpu = clock.ours(run, recorded, cand_cpu)
    t0 = time.perf_counter()
    naive_out = [_naive.naive_generate_candidates(f, a, v, L, **cfg)
                 for f, a, v, L, cfg in cand_np]
    t_naive = time.perf_counter() - t0
    worst, count, error = 0.0, 0, None
    for i, (o, n) in enumerate(zip(ours_out, naive_out)):
        o = {k: v.cpu().numpy() for k, v in o.items()}
        try:
            worst = max(worst, _naive.compare_candidates(o, n))
        except AssertionError as err:
            error = error or f'test batch {i}: {err}'
        count += len(n['score'])
    # the instance head scores a proposal from (video, start, end) only:
    # how many distinct boxes do the candidates hold?
    unique = 0
    for o in ours_out:
        box = torch.stack([o['batch_idx'].double(), o['start'].double(),
                           o['end'].double()], 1)
        unique += int(torch.unique(box, dim=0).shape[0]) if len(box) else 0
    print(f'[speed] candidates: {count} proposals, ours {t_dev:.4f} s '
          f'({device}), naive {t_naive:.3f} s, ' + _verdict(worst, error),
          flush=True)
    return dict(_timings(t_dev, t_cpu, t_naive), proposals=count,
                unique_boxes=unique, batches=len(recorded),
                max_abs_diff=worst, same_outputs=error is None, error=error)


def _check_nms_batch(keep, new, ref, inputs, sigma):
    """``(max diff, near-tie proposals or None, error or None)`` of one
    batch. float32 scores can order two near-equal proposals differently
    from the float64 reference (a near tie); the algorithms agree if ours on
    float64 copies of the same inputs matches."""
    try:
        return _naive.compare_soft_nms(keep.cpu().numpy(), new.cpu().numpy(),
                                       ref), None, None
    except AssertionError as err32:
        k64, n64 = batched_soft_nms(*(torch.from_numpy(x) for x in inputs),
                                    sigma=sigma)
        try:
            _naive.compare_soft_nms(k64.numpy(), n64.numpy(), ref)
        except AssertionError as err:
            return 0.0, None, f'{err} (float32: {err32})'
        mine = np.empty(len(ref))
        mine[keep.cpu().numpy()] = new.cpu().double().numpy()
        return 0.0, int((np.abs(mine - ref) > 1e-5).sum()), None


def _group_stats(s, lab, b):
    """``(groups, largest group, largest overlap component)`` of a batch."""
    key = b * (int(lab.max()) + 1 if len(lab) else 1) + lab
    uniq, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
    comp = max((largest_overlap_component(s[inv == g])
                for g in range(len(uniq))), default=0)
    return len(uniq), int(cnt.max()) if len(cnt) else 0, comp


def bench_soft_nms(recorded, clock: _Clock, device: str, sigma: float):
    """Soft-NMS: ours against ``naive_batched_soft_nms``."""
    nms_cpu = [tuple(t.cpu() for t in c) for c in recorded]
    nms_np = [(s.double().numpy(), sc.double().numpy(), lab.numpy(),
               b.numpy()) for s, sc, lab, b in nms_cpu]

    def run(inputs):
        return [batched_soft_nms(s, sc, lab, b, sigma=sigma)
                for s, sc, lab, b in inputs]

    t_dev, ours_res, t_cpu = clock.ours(run, recorded, nms_cpu)
    t0 = time.perf_counter()
    naive_final = [_naive.naive_batched_soft_nms(s, sc, lab, b, sigma)
                   for s, sc, lab, b in nms_np]
    t_naive = time.perf_counter() - t0
    worst, count, groups, lmax, comp, error = 0.0, 0, 0, 0, 0, None
    flips, flip_batches = 0, 0
    for i, ((keep, new), ref, inputs) in enumerate(
            zip(ours_res, naive_final, nms_np)):
        diff, flipped, err = _check_nms_batch(keep, new, ref, inputs, sigma)
        worst = max(worst, diff)
        if flipped is not None:
            flips, flip_batches = flips + flipped, flip_batches + 1
        if err is not None:
            error = error or f'test batch {i}: {err}'
        count += len(ref)
        g, largest, c = _group_stats(inputs[0], inputs[2], inputs[3])
        groups, lmax, comp = groups + g, max(lmax, largest), max(comp, c)
    print(f'[speed] soft-NMS: {count} proposals in {groups} (video, class) '
          f'groups, ours {t_dev:.4f} s ({device}), naive {t_naive:.3f} s, '
          + _verdict(worst, error)
          + (f'; {flip_batches} batch(es) where float32 breaks a near tie '
             f'differently ({flips} proposals; ours on float64 inputs '
             'agrees)' if flip_batches else ''), flush=True)
    return dict(_timings(t_dev, t_cpu, t_naive), proposals=count,
                groups=groups, batches=len(recorded), largest_group=lmax,
                largest_overlap_component=comp, max_abs_diff=worst,
                same_outputs=error is None, error=error,
                float32_near_tie_batches=flip_batches,
                float32_near_tie_proposals=flips)


def proposal_bench(rec, model, device: str, repeats: int,
                   max_batches=None) -> dict:
    """Ours (device, and CPU when the device is CUDA) vs the naive code, on
    the inputs recorded during the test (the first ``max_batches``)."""
    post = model.post_processor
    if post.top_k is not None or post.min_score is not None:
        print('[speed] note: the model sets soft-NMS top_k / min_score; the '
              'comparison runs without them', flush=True)
    clock = _Clock(device, repeats)
    return dict(
        candidates=bench_candidates(rec.candidates[:max_batches], clock,
                                    device),
        soft_nms=bench_soft_nms(rec.nms[:max_batches], clock, device,
                                float(post.sigma)))


def mismatches(bench: dict) -> list:
    """The operations of a ``proposal_bench`` result whose outputs differ
    from the naive reference (the benchmark then exits non-zero)."""
    return [k for k in ('candidates', 'soft_nms')
            if k in (bench or {}) and not bench[k]['same_outputs']]
