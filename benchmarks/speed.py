"""Speed benchmark: the full HR-Pro schedule on THUMOS14-scale data.

    python benchmarks/speed.py [--device cpu|cuda] [--quick] [--feat-dim D]
        [--work-dir DIR] [--data-root DIR] [--profile] [--amp]

1. Data. ``--data-root`` (default ``data/synthetic_speed_<D>d``) is used as
   it is when it already holds a dataset (``gt_full.json`` + features), e.g.
   real THUMOS14 I3D features. Otherwise synthetic features are generated
   there, with the real THUMOS14 video lengths, segments and splits of the
   shipped ``data/thumos14/gt_full.json``. A stamp file makes a second run
   reuse the data.
2. Training: ``configs/hrpro_thumos14.py`` resolved like ``tools/train.py``
   (feat_dim / num_classes from the data, seed 0), MMEngine's Runner
   in-process: 1,000 stage-1 iterations of 16 videos, mining, 20 stage-2
   epochs of 10 videos. ``--quick`` runs 100 iterations and 2 epochs and
   extrapolates the full-schedule time from the measured per-iteration
   rates (a separate, labelled column). ``--amp`` sets ``model.bf16``, as
   ``tools/train.py --amp`` does: the networks run under bf16 autocast on
   CUDA (training and test); the model ignores it on the CPU.
3. Test: ``runner.test()`` of the trained runner on the test split (mAP).
4. Proposal generation and soft-NMS: our batched torch code
   (``candidates.generate_candidates``, ``soft_nms.batched_soft_nms``)
   against the per-proposal NumPy/Python references of
   ``benchmarks/_naive.py``, on the inputs the trained model produced on the
   test videos; both outputs are checked to agree (same count, 1e-5).

Phases are timed by two hooks (``_PhaseTimerFirst`` at priority HIGHEST,
``_PhaseTimerLast`` at LOWEST, both registered in mmaction's HOOKS): stage 1
runs from ``before_train`` (prototype initialisation included) to
``before_stage2``; mining is ``ProposalMiningHook.before_stage2``; stage 2
runs to ``after_train``. On CUDA every mark synchronises the device. The
table is printed and written to ``<work-dir>/speed.json``. Every mAP of a
generated dataset is a synthetic-feature result, not a THUMOS14 one.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

# --quick: (stage-1 iterations, stage-2 epochs) per device, chosen so that
# the run (data generation excluded) stays within about 5 min on one GPU at
# 2048-d and 10 min on 2 CPU cores at 256-d; mining and the test pass are
# always complete (their cost does not shrink with the schedule).
QUICK_SCHEDULE = dict(cuda=(100, 2), cpu=(20, 1))
CONFIG = osp.join(ROOT, 'configs', 'hrpro_thumos14.py')
DATA_STAMP = 'speed_dataset.json'


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='HR-Pro speed benchmark (THUMOS14 scale)',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', choices=['cpu', 'cuda'], default=None,
                   help='default: cuda when available, else cpu')
    p.add_argument('--quick', action='store_true',
                   help='short schedule (cuda: %d stage-1 iterations, %d '
                   'stage-2 epochs; cpu: %d and %d); the full-schedule time '
                   'is extrapolated' % (QUICK_SCHEDULE['cuda'] +
                                        QUICK_SCHEDULE['cpu']))
    p.add_argument('--feat-dim', type=int, default=None,
                   help='feature width of generated data (default 2048 on '
                   'cuda, 256 on cpu)')
    p.add_argument('--work-dir', default=None,
                   help='default work_dirs/speed_<device>[_quick]')
    p.add_argument('--data-root', default=None,
                   help='dataset root (used as is when it holds a dataset; '
                   'else synthetic data is generated there); default '
                   'data/synthetic_speed_<D>d')
    p.add_argument('--stage1-iters', type=int, default=None,
                   help='override the stage-1 iterations (custom schedule)')
    p.add_argument('--stage2-epochs', type=int, default=None,
                   help='override the stage-2 epochs (custom schedule)')
    p.add_argument('--amp', action='store_true',
                   help='bf16 autocast of the networks on CUDA '
                   '(model.bf16=True, as tools/train.py --amp); ignored by '
                   'the model on cpu')
    p.add_argument('--profile', action='store_true',
                   help='cProfile one stage-1 and one stage-2 iteration '
                   '(top 15 by tottime; adds their overhead to the timings)')
    p.add_argument('--threads', type=int, default=None,
                   help='torch intra-op threads (default: torch\'s choice, '
                   'usually the core count)')
    p.add_argument('--no-proposal-bench', action='store_true',
                   help='skip the proposal / soft-NMS comparison')
    p.add_argument('--bench-checkpoint', default=None,
                   help='compare proposal generation and soft-NMS on the test '
                   'outputs of this trained checkpoint (same model config and '
                   'data; loaded after the timed run) instead of those of the '
                   'model the schedule just trained')
    p.add_argument('--bench-batches', type=int, default=None,
                   help='compare on the first N test batches only (default: '
                   'all; --quick: 8)')
    p.add_argument('--repeats', type=int, default=None,
                   help='timed repeats of our proposal / soft-NMS code, the '
                   'best is kept (default 3 on cuda after a warm-up call, 1 '
                   'on cpu); the naive code runs once')
    return p.parse_args(argv)


# ---------------------------------------------------------------------------
# machine
# ---------------------------------------------------------------------------
def cpu_name() -> str:
    model = 'unknown CPU'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.lower().startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    return f'{model}, {cores} cores (nproc)'


def peak_rss_mib() -> float:
    import resource
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kb / 1024.0


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
def thumos_annotations():
    path = osp.join(ROOT, 'data', 'thumos14', 'gt_full.json')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} is missing: it ships with the '
                                'repository (data/README.md)')
    return osp.abspath(path)


def prepare_data(data_root: str, feat_dim: int, explicit_dim: bool) -> dict:
    """Use or generate the dataset; returns a description of it."""
    from hrpro_plugin.datasets import infer_feat_dim
    from hrpro_plugin.datasets.synthetic import (SYNTHETIC_MARKER, VideoLayout,
                                                 generate_dataset)
    ann = thumos_annotations()
    want = dict(generator='hrpro_plugin.datasets.synthetic', seed=0,
                feat_dim=int(feat_dim),
                source=('THUMOS14 gt_full.json (real lengths, segments, '
                        'splits)' if ann else
                        'VideoLayout(mean_snippets=330), 200 train / 212 '
                        'test, 20 classes'))
    stamp_path = osp.join(data_root, DATA_STAMP)
    if osp.isfile(stamp_path):
        with open(stamp_path) as f:
            have = json.load(f)
        if {k: have.get(k) for k in want} == want:
            print(f'[speed] reusing synthetic data in {data_root}', flush=True)
            return dict(have, data_root=osp.abspath(data_root),
                        synthetic=True)
        print(f'[speed] {data_root} holds other synthetic data '
              f'({have.get("feat_dim")}-d); generating again', flush=True)
    elif osp.isfile(osp.join(data_root, 'gt_full.json')) and \
            osp.isdir(osp.join(data_root, 'features', 'train')):
        dim = infer_feat_dim(osp.join(data_root, 'features', 'train'))
        if explicit_dim and dim != feat_dim:
            raise SystemExit(f'--data-root {data_root} holds {dim}-d '
                             f'features but --feat-dim is {feat_dim}')
        marker = osp.join(data_root, SYNTHETIC_MARKER)
        synthetic = osp.isfile(marker)
        print(f'[speed] using the dataset in {data_root} as it is '
              f'({dim}-d{" synthetic" if synthetic else ""} features)',
              flush=True)
        return dict(data_root=osp.abspath(data_root), feat_dim=int(dim),
                    source=('synthetic features (used as is, see '
                            f'{SYNTHETIC_MARKER})' if synthetic else
                            'user dataset (used as is)'),
                    synthetic=synthetic)
    print(f'[speed] generating {feat_dim}-d synthetic data in {data_root} '
          f'({want["source"]})', flush=True)
    t0 = time.perf_counter()
    if ann:
        summary = generate_dataset(data_root, feat_dim=feat_dim, seed=0,
                                   annotations=ann)
    else:
        summary = generate_dataset(data_root, num_classes=20, num_train=200,
                                   num_test=212, feat_dim=feat_dim, seed=0,
                                   layout=VideoLayout(mean_snippets=330))
    have = dict(want, seconds=round(time.perf_counter() - t0, 1),
                num_train=summary['num_train'], num_test=summary['num_test'],
                mean_snippets=round(summary['mean_snippets'], 1),
                max_snippets=summary['max_snippets'])
    with open(stamp_path, 'w') as f:
        json.dump(have, f, indent=1)
    return dict(have, data_root=osp.abspath(data_root), synthetic=True)


# ---------------------------------------------------------------------------
# phase timing
# ---------------------------------------------------------------------------
class Timeline:
    """Marks (perf_counter) and per-phase counters, shared by the hooks."""

    def __init__(self, cuda: bool):
        self.cuda = cuda
        self.marks = {}
        self.peak = {}            # phase -> peak memory (MiB)
        self.iters = {'stage1': 0, 'stage2': 0}
        self.snippets = {'stage1': 0, 'stage2': 0}
        self.padded = {'stage1': 0, 'stage2': 0}
        self.profile_at = {}      # phase -> iteration index in that phase
        self.profiles = {}
        self._profiler = None

    def sync(self):
        if self.cuda:
            import torch
            torch.cuda.synchronize()

    def mark(self, name: str, ends_phase: str = None, log: bool = True):
        self.sync()
        self.marks[name] = time.perf_counter()
        if ends_phase is not None:
            if self.cuda:
                import torch
                self.peak[ends_phase] = torch.cuda.max_memory_allocated() / 2**20
                torch.cuda.reset_peak_memory_stats()
            else:
                self.peak[ends_phase] = peak_rss_mib()
        if log:
            print(f'[speed] {name} (+{self.elapsed():.1f} s)', flush=True)

    def elapsed(self) -> float:
        return time.perf_counter() - self.marks.get('start', time.perf_counter())

    def phase(self) -> str:
        return 'stage2' if 'stage1_end' in self.marks else 'stage1'

    def count(self, data_batch):
        phase = self.phase()
        if self.iters[phase] == 0:
            self.mark(f'{phase}_first_iter')
        self.iters[phase] += 1
        if not isinstance(data_batch, dict):
            data_batch = {}
        inputs = data_batch.get('inputs')
        samples = data_batch.get('data_samples') or []
        lengths = [int(ds.metainfo['num_snippets']) for ds in samples]
        self.snippets[phase] += sum(lengths)
        if isinstance(inputs, (list, tuple)) and inputs:
            self.padded[phase] += len(inputs) * max(x.shape[0] for x in inputs)
        elif inputs is not None and hasattr(inputs, 'shape'):
            self.padded[phase] += inputs.shape[0] * inputs.shape[1]

    # -- profiling of one iteration per stage --------------------------------
    def maybe_start_profile(self, data_batch):
        phase = self.phase()
        if self.profile_at.get(phase) != self.iters[phase] - 1 or \
                phase in self.profiles:
            return
        import cProfile
        samples = data_batch.get('data_samples') or []
        lengths = [int(ds.metainfo['num_snippets']) for ds in samples]
        self._profile_info = dict(phase=phase, iteration=self.iters[phase],
                                  videos=len(lengths), t_max=max(lengths),
                                  snippets=sum(lengths))
        self.sync()
        self._profiler = cProfile.Profile()
        self._t_profile = time.perf_counter()
        self._profiler.enable()

    def maybe_stop_profile(self):
        if self._profiler is None:
            return
        import io
        import pstats
        self.sync()
        self._profiler.disable()
        wall = time.perf_counter() - self._t_profile
        buf = io.StringIO()
        stats = pstats.Stats(self._profiler, stream=buf)
        stats.sort_stats('tottime').print_stats(15)
        info = dict(self._profile_info, wall_s=round(wall, 4),
                    top15=buf.getvalue())
        self.profiles[info['phase']] = info
        self._profiler = None
        print(f'[speed] profile of {info["phase"]} iteration '
              f'{info["iteration"]} ({info["videos"]} videos, T_max '
              f'{info["t_max"]}, {wall:.3f} s wall):\n{info["top15"]}',
              flush=True)


TIMELINE = None


def register_hooks():
    from mmengine.hooks import Hook
    from mmaction.registry import HOOKS

    @HOOKS.register_module(name='_PhaseTimerFirst', force=True)
    class _PhaseTimerFirst(Hook):
        """Runs before every other hook: train start, stage-1 end (before
        the mining hook), first iteration of each stage, stage-2 end."""
        priority = 'HIGHEST'

        def before_train(self, runner):
            TIMELINE.mark('train_start', ends_phase='setup')

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            TIMELINE.count(data_batch)

        def before_stage2(self, runner, proposal_file=None):
            TIMELINE.mark('stage1_end', ends_phase='stage1')

        def after_train(self, runner):
            TIMELINE.mark('stage2_end', ends_phase='stage2')

    @HOOKS.register_module(name='_PhaseTimerLast', force=True)
    class _PhaseTimerLast(Hook):
        """Runs after every other hook: mining end; profiling brackets the
        whole iteration (model step and the other hooks)."""
        priority = 'LOWEST'

        def before_stage2(self, runner, proposal_file=None):
            TIMELINE.mark('mining_end', ends_phase='mining')

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            TIMELINE.maybe_start_profile(data_batch)

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            TIMELINE.maybe_stop_profile()


# ---------------------------------------------------------------------------
# config and runs
# ---------------------------------------------------------------------------
def build_config(data_root, work_dir, stage1_iters, stage2_epochs,
                 amp=False):
    from mmengine.config import Config
    from hrpro_plugin.apis import apply_data_root, fill_model_dims
    cfg = Config.fromfile(CONFIG)
    full = dict(stage1_iters=int(cfg.train_cfg.stage1_iters),
                stage2_epochs=int(cfg.train_cfg.stage2_epochs))
    cfg.launcher = 'none'
    cfg.feat_dim = None
    cfg.num_classes = None
    apply_data_root(cfg, data_root)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=0, deterministic=False)
    if stage1_iters is not None:
        cfg.train_cfg.stage1_iters = int(stage1_iters)
    if stage2_epochs is not None:
        cfg.train_cfg.stage2_epochs = int(stage2_epochs)
    if amp:
        cfg.model['bf16'] = True
    ev = cfg.test_evaluator
    if ev.get('ambiguous_file') and not osp.isfile(ev['ambiguous_file']):
        # fully synthetic data has none; said aloud, since THUMOS14 numbers
        # without the filter are not comparable
        print(f'[speed] {ev["ambiguous_file"]} not found: testing without '
              'ambiguous-segment filtering', flush=True)
        ev['ambiguous_file'] = None
    cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
        dict(type='_PhaseTimerFirst'), dict(type='_PhaseTimerLast')]
    fill_model_dims(cfg)
    return cfg, full


class Recorder:
    """Keeps (by reference, no copy, no sync) the inputs of candidate
    generation and of soft-NMS during ``runner.test()``."""

    def __init__(self, model):
        import hrpro_plugin.models.localizers.hrpro as hrpro_mod
        self.mod = hrpro_mod
        self.model = model
        self.candidates, self.nms = [], []

    def __enter__(self):
        orig_gc = self.mod.generate_candidates
        post = self.model.post_processor
        orig_fwd = post.forward
        self._orig = (orig_gc, orig_fwd)

        def gen(fused_cas, attn, video_scores, mask, **cfg):
            self.candidates.append((fused_cas, attn, video_scores, mask, cfg))
            return orig_gc(fused_cas, attn, video_scores, mask, **cfg)

        def nms(segments, scores, labels, batch_idx):
            self.nms.append((segments, scores, labels, batch_idx))
            return orig_fwd(segments, scores, labels, batch_idx)

        self.mod.generate_candidates = gen
        post.forward = nms
        return self

    def __exit__(self, *exc):
        self.mod.generate_candidates = self._orig[0]
        del self.model.post_processor.forward  # back to the class method
        return False


def bench_checkpoint_outputs(runner, model, path):
    """Load ``path`` into ``model`` (strictly: a checkpoint of another
    model config is an error) and record its test outputs (untimed)."""
    from mmengine.runner import load_checkpoint
    if not osp.isfile(path):
        raise SystemExit(f'[speed] --bench-checkpoint: no file {path}')
    device = next(model.parameters()).device
    try:
        load_checkpoint(model, path, map_location=device, strict=True,
                        logger='silent')
    except RuntimeError as err:
        raise SystemExit(f'[speed] --bench-checkpoint {path} does not fit '
                         f'the benchmark model ({err})') from None
    print(f'[speed] recording the test outputs of {path} (untimed)',
          flush=True)
    with Recorder(model) as rec:         # the test loop runs without grad
        metrics = runner.test()
    return rec, dict(path=path,
                     metrics={k: float(v) for k, v in metrics.items()})


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


def _components(seg: 'np.ndarray') -> int:
    """Largest set of transitively overlapping segments of one group."""
    import numpy as np
    if len(seg) == 0:
        return 0
    o = np.argsort(seg[:, 0], kind='stable')
    s, e = seg[o, 0], seg[o, 1]
    run_end = np.maximum.accumulate(e)
    new = np.r_[True, s[1:] >= run_end[:-1]]
    ids = np.cumsum(new)
    return int(np.bincount(ids).max())


def proposal_bench(rec: Recorder, model, device: str, repeats: int,
                   max_batches=None) -> dict:
    """Ours (device, and CPU when the device is CUDA) vs the naive code, on
    the inputs recorded during the test (the first ``max_batches``)."""
    import numpy as np
    import torch
    sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
    import _naive
    from hrpro_plugin.models.proposals.candidates import generate_candidates
    from hrpro_plugin.models.postprocessing.soft_nms import batched_soft_nms

    cuda = device == 'cuda'

    def sync():
        if cuda:
            torch.cuda.synchronize()

    def nosync():
        pass

    post = model.post_processor
    sigma = float(post.sigma)
    if post.top_k is not None or post.min_score is not None:
        print('[speed] note: the model sets soft-NMS top_k / min_score; the '
              'comparison runs without them', flush=True)
    out = {}

    # -------- candidate generation --------
    cand_dev = rec.candidates[:max_batches]
    cand_cpu = [tuple(t.cpu() for t in c[:4]) + (c[4], ) for c in cand_dev]
    cand_np = [(c[0].float().numpy(), c[1].float().numpy(),
                c[2].float().numpy(), c[3].long().sum(1).numpy(), c[4])
               for c in cand_cpu]

    def ours_cand(inputs):
        def run():
            return [generate_candidates(f, a, v, m, **cfg)
                    for f, a, v, m, cfg in inputs]
        return run

    t_dev, ours_out = time_best(ours_cand(cand_dev), repeats, sync, cuda)
    t_cpu = (time_best(ours_cand(cand_cpu), repeats, nosync, False)[0]
             if cuda else t_dev)
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
    out['candidates'] = dict(
        ours_device_s=t_dev, ours_cpu_s=t_cpu, naive_s=t_naive,
        ratio_device=t_naive / t_dev, ratio_cpu=t_naive / t_cpu,
        proposals=count, unique_boxes=unique, batches=len(cand_dev),
        max_abs_diff=worst, same_outputs=error is None, error=error)
    print(f'[speed] candidates: {count} proposals, ours {t_dev:.4f} s '
          f'({device}), naive {t_naive:.3f} s, '
          + (f'agree (max diff {worst:.2g})' if error is None else
             f'DIFFER: {error}'), flush=True)

    # -------- soft-NMS --------
    nms_dev = rec.nms[:max_batches]
    nms_cpu = [tuple(t.cpu() for t in c) for c in nms_dev]
    nms_np = [(s.double().numpy(), sc.double().numpy(), lab.numpy(),
               b.numpy()) for s, sc, lab, b in nms_cpu]

    def ours_nms(inputs):
        def run():
            return [batched_soft_nms(s, sc, lab, b, sigma=sigma)
                    for s, sc, lab, b in inputs]
        return run

    t_dev, ours_res = time_best(ours_nms(nms_dev), repeats, sync, cuda)
    t_cpu = (time_best(ours_nms(nms_cpu), repeats, nosync, False)[0]
             if cuda else t_dev)
    t0 = time.perf_counter()
    naive_final = [_naive.naive_batched_soft_nms(s, sc, lab, b, sigma)
                   for s, sc, lab, b in nms_np]
    t_naive = time.perf_counter() - t0
    worst, count, groups, lmax, comp, error = 0.0, 0, 0, 0, 0, None
    flips, flip_batches = 0, 0
    for i, ((keep, new), ref, (s, sc, lab, b)) in enumerate(
            zip(ours_res, naive_final, nms_np)):
        try:
            worst = max(worst, _naive.compare_soft_nms(
                keep.cpu().numpy(), new.cpu().numpy(), ref))
        except AssertionError as err32:
            # float32 scores can order two near-equal proposals differently
            # from the float64 reference (a near tie); the algorithms agree
            # if ours on float64 copies of the same inputs matches.
            k64, n64 = batched_soft_nms(*(torch.from_numpy(x) for x in
                                          (s, sc, lab, b)), sigma=sigma)
            try:
                _naive.compare_soft_nms(k64.numpy(), n64.numpy(), ref)
                mine = np.empty(len(ref))
                mine[keep.cpu().numpy()] = new.cpu().double().numpy()
                flips += int((np.abs(mine - ref) > 1e-5).sum())
                flip_batches += 1
            except AssertionError as err:
                error = error or (f'test batch {i}: {err} (float32: '
                                  f'{err32})')
        count += len(ref)
        key = b * (int(lab.max()) + 1 if len(lab) else 1) + lab
        uniq, inv, cnt = np.unique(key, return_inverse=True,
                                   return_counts=True)
        groups += len(uniq)
        lmax = max(lmax, int(cnt.max()) if len(cnt) else 0)
        for g in range(len(uniq)):
            comp = max(comp, _components(s[inv == g]))
    out['soft_nms'] = dict(
        ours_device_s=t_dev, ours_cpu_s=t_cpu, naive_s=t_naive,
        ratio_device=t_naive / t_dev, ratio_cpu=t_naive / t_cpu,
        proposals=count, groups=groups, batches=len(nms_dev),
        largest_group=lmax, largest_overlap_component=comp,
        max_abs_diff=worst, same_outputs=error is None, error=error,
        float32_near_tie_batches=flip_batches,
        float32_near_tie_proposals=flips)
    print(f'[speed] soft-NMS: {count} proposals in {groups} (video, class) '
          f'groups, ours {t_dev:.4f} s ({device}), naive {t_naive:.3f} s, '
          + (f'agree (max diff {worst:.2g})' if error is None else
             f'DIFFER: {error}')
          + (f'; {flip_batches} batch(es) where float32 breaks a near tie '
             f'differently ({flips} proposals; ours on float64 inputs '
             'agrees)' if flip_batches else ''), flush=True)
    return out


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------
def _fmt(v, spec='.1f'):
    return '-' if v is None else format(v, spec)


def ascii_table(rows):
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    line = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'
    out = [line]
    for k, r in enumerate(rows):
        out.append('| ' + ' | '.join(str(c).ljust(w) if j == 0 else
                                     str(c).rjust(w)
                                     for j, (c, w) in enumerate(zip(r, widths)))
                   + ' |')
        if k == 0:
            out.append(line)
    out.append(line)
    return '\n'.join(out)


def report(res: dict) -> str:
    ph = res['phases']
    est = res['schedule']['name'] != 'full'
    mem = 'CUDA max allocated' if res['device'] == 'cuda' else \
        'process max RSS so far'
    head = ['phase', 'time (s)', 'iterations', 'snippets/s',
            f'peak mem (MiB, {mem})']
    if est:
        head.append('full schedule, extrapolated (s)')
    rows = [head]
    for key, label in (('setup', 'setup (runner, data)'),
                       ('stage1', 'stage-1 train'), ('mining', 'mining'),
                       ('stage2', 'stage-2 train'), ('test', 'test')):
        p = ph[key]
        r = [label, _fmt(p['seconds'], '.2f'), _fmt(p.get('iterations'), 'd'),
             _fmt(p.get('snippets_per_s'), ',.0f'),
             _fmt(p.get('peak_mem_mib'), ',.0f')]
        if est:
            r.append(_fmt(p.get('full_estimate_s'), '.1f'))
        rows.append(r)
    tot = res['totals']
    r = ['train + test', _fmt(tot['train_test_s'], '.2f'), '', '',
         _fmt(tot['peak_mem_mib'], ',.0f')]
    if est:
        r.append(_fmt(tot['full_estimate_s'], '.1f'))
    rows.append(r)
    s = res['schedule']
    lines = [
        '',
        f'HR-Pro speed benchmark -- {s["name"].upper()} schedule: '
        f'{s["stage1_iters"]} stage-1 iterations x {s["stage1_batch"]} '
        f'videos, {s["stage2_epochs"]} stage-2 epochs x '
        f'{s["stage2_iters_per_epoch"]} batches of {s["stage2_batch"]} '
        f'(full: {s["full_stage1_iters"]} iterations, '
        f'{s["full_stage2_epochs"]} epochs)',
        f'device: {res["device_name"]} ({res["device"]}); torch '
        f'{res["torch"]}, {res["threads"]} threads; feat_dim '
        f'{res["feat_dim"]}, {res["num_classes"]} classes; '
        + ('bf16 autocast' if res.get('bf16_active') else 'float32')
        + (' (--amp ignored on cpu)' if res.get('amp') and
           not res.get('bf16_active') else ''),
        f'data: {res["data"]["source"]} at {res["data"]["data_root"]}; '
        f'{res["data"]["num_train"]} train / {res["data"]["num_test"]} test '
        f'videos, {res["data"]["test_snippets"]:,} test snippets',
        ascii_table(rows),
    ]
    if est:
        lines.append(
            'extrapolated column: fixed costs (prototype init, first batch) '
            'as measured + per-iteration time x full-schedule iterations; '
            'mining and test as measured (a model trained longer may give '
            'other proposal counts).')
    for key, label in (('stage1', 'stage 1'), ('stage2', 'stage 2')):
        p = ph[key]
        if p.get('padded_snippets'):
            lines.append(f'{label}: {p["snippets"]:,} valid snippets in '
                         f'{p["padded_snippets"]:,} padded positions '
                         f'({100 * (1 - p["snippets"] / p["padded_snippets"]):.0f}'
                         '% padding); per iteration '
                         f'{_fmt(p.get("per_iteration_s"), ".3f")} s')
    lines.append('snippets/s: valid (unpadded) training snippets processed / '
                 'phase time; mining: train-set snippets / time; test: test '
                 'snippets / time.')
    m = res['metrics']
    lines.append(
        f'mAP (%): avg[0.1:0.7] {_fmt(m.get("mAP_avg"), ".2f")}, '
        f'@0.5 {_fmt(m.get("mAP@0.50"), ".2f")}, '
        f'@0.7 {_fmt(m.get("mAP@0.70"), ".2f")}'
        + (' -- synthetic features, not a THUMOS14 result'
           if res['data']['synthetic'] else '')
        + (f" ({s['name']} schedule: not the full-schedule mAP)" if est else ""))
    la = res.get('load_average')
    if la:
        lines.append(f'load average (1 min) at start / end: {la[0]:.2f} / '
                     f'{la[1]:.2f} on {res["cpu_count"]} cores'
                     + (' -- SHARED MACHINE: timings are pessimistic'
                        if max(la) > res['cpu_count'] else ''))
    pb = res.get('proposal_bench')
    if pb:
        dev = res['device']
        rows = [['operation', 'proposals', f'ours {dev} (s)'] +
                (['ours cpu (s)'] if dev == 'cuda' else []) +
                ['naive numpy (s)', f'speed-up ({dev})'] +
                (['speed-up (cpu)'] if dev == 'cuda' else []) +
                ['same outputs (max diff)']]
        for key, label in (('candidates', 'proposal generation'),
                           ('soft_nms', 'soft-NMS')):
            b = pb[key]
            rows.append([label, f'{b["proposals"]:,}',
                         f'{b["ours_device_s"]:.4f}'] +
                        ([f'{b["ours_cpu_s"]:.4f}'] if dev == 'cuda' else []) +
                        [f'{b["naive_s"]:.3f}', f'{b["ratio_device"]:.1f}x'] +
                        ([f'{b["ratio_cpu"]:.1f}x'] if dev == 'cuda' else []) +
                        [f'yes ({b["max_abs_diff"]:.1g})'
                         if b['same_outputs'] else 'NO (see speed.json)'])
        lines.append('')
        ck = res.get('bench_checkpoint')
        source = ('the model just trained' if not ck else
                  f'checkpoint {ck["path"]} (test avg mAP '
                  f'{ck["metrics"].get("mAP_avg", float("nan")):.2f}%)')
        lines.append(f'proposal generation and soft-NMS on '
                     f'{pb["candidates"]["batches"]} of the '
                     f'{pb["test_batches"]} test batches (inputs from '
                     f'{source}, as predict() calls them, one batch at '
                     'a time); target speed-up >= 20x')
        lines.append(ascii_table(rows))
        c = pb['candidates']
        lines.append(f'candidates: {c["proposals"]:,} in these batches, '
                     f'{c["unique_boxes"]:,} distinct (video, start, end) '
                     'boxes')
        n = pb['soft_nms']
        if n.get('float32_near_tie_batches'):
            lines.append(
                f'soft-NMS: in {n["float32_near_tie_batches"]} batch(es) the '
                'float32 scores order near-equal proposals differently from '
                f'the float64 reference ({n["float32_near_tie_proposals"]} '
                'proposals differ); ours on float64 copies of those inputs '
                'agrees within 1e-5 (max diff column: the other batches)')
        lines.append(f'soft-NMS groups: {n["groups"]} (video, class); largest '
                     f'{n["largest_group"]} proposals; largest set of '
                     f'transitively overlapping proposals '
                     f'{n["largest_overlap_component"]}')
    return '\n'.join(lines)


# ---------------------------------------------------------------------------
def main(argv=None):
    global TIMELINE
    args = parse_args(argv)
    if args.device == 'cpu':
        os.environ['CUDA_VISIBLE_DEVICES'] = ''  # the runner picks the device
    import torch
    if args.device is None:
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: no CUDA device is available')
    cuda = args.device == 'cuda'
    if args.threads:
        torch.set_num_threads(args.threads)
    explicit_dim = args.feat_dim is not None
    feat_dim = args.feat_dim or (2048 if cuda else 256)

    import hrpro_plugin  # noqa: F401  (registers the parts)
    from mmengine.runner import Runner

    TIMELINE = Timeline(cuda)
    load_start = os.getloadavg()[0] if hasattr(os, 'getloadavg') else None
    ncpu = (len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity')
            else os.cpu_count())
    if load_start is not None and load_start > ncpu and not cuda:
        print(f'[speed] WARNING: load average {load_start:.1f} on {ncpu} '
              'cores: other processes share the CPUs; torch\'s multi-threaded '
              'kernels can be several times slower then (try --threads 1)',
              flush=True)
    data_root = args.data_root or osp.join(ROOT, 'data',
                                           f'synthetic_speed_{feat_dim}d')
    data = prepare_data(data_root, feat_dim, explicit_dim)
    feat_dim = data['feat_dim']

    if args.quick:
        s1, s2 = QUICK_SCHEDULE[args.device]
    else:
        s1 = s2 = None
    if args.stage1_iters is not None:
        s1 = args.stage1_iters
    if args.stage2_epochs is not None:
        s2 = args.stage2_epochs
    if (s1 is not None and s1 < 1) or (s2 is not None and s2 < 1):
        raise SystemExit('the benchmark times both stages: --stage1-iters '
                         'and --stage2-epochs must be >= 1')
    work_dir = args.work_dir or osp.join(
        ROOT, 'work_dirs', f'speed_{args.device}' + ('_quick' if args.quick
                                                     else ''))
    os.makedirs(work_dir, exist_ok=True)
    # An earlier run's mining file would be reused (not timed): remove it,
    # but only in a work dir this benchmark made.
    marker = osp.join(work_dir, '.speed_benchmark')
    stale = [f for f in ('mined_proposals.pt', 'stage1.pth', 'stage2.pth')
             if osp.isfile(osp.join(work_dir, f))]
    if stale and not osp.isfile(marker):
        raise SystemExit(f'--work-dir {work_dir} holds {", ".join(stale)} '
                         'of another run; pick an empty or new directory')
    for f in stale:
        os.remove(osp.join(work_dir, f))
    open(marker, 'w').close()

    register_hooks()
    if args.amp and not cuda:
        print('[speed] note: --amp (bf16 autocast) is CUDA-only; the model '
              'runs in float32 on cpu', flush=True)
    cfg, full = build_config(data['data_root'], work_dir, s1, s2,
                             amp=args.amp)
    sched = dict(stage1_iters=int(cfg.train_cfg.stage1_iters),
                 stage2_epochs=int(cfg.train_cfg.stage2_epochs),
                 full_stage1_iters=full['stage1_iters'],
                 full_stage2_epochs=full['stage2_epochs'],
                 stage1_batch=int(cfg.train_dataloader.batch_size),
                 stage2_batch=int(cfg.train_cfg.stage2_dataloader.batch_size))
    if (sched['stage1_iters'], sched['stage2_epochs']) == \
            (full['stage1_iters'], full['stage2_epochs']):
        sched['name'] = 'full'
    elif args.quick and args.stage1_iters is None and \
            args.stage2_epochs is None:
        sched['name'] = 'quick'
    else:
        sched['name'] = 'custom'
    if args.profile:
        TIMELINE.profile_at = {
            'stage1': min(4, max(0, sched['stage1_iters'] - 1)), 'stage2': 2}
    print(f'[speed] {sched["name"].upper()} schedule: {sched["stage1_iters"]} '
          f'stage-1 iterations, {sched["stage2_epochs"]} stage-2 epochs; '
          f'device {args.device}, feat_dim {feat_dim}'
          + (', bf16 autocast' if args.amp and cuda else ''), flush=True)

    # ---------------- train ----------------
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    TIMELINE.mark('start', log=False)
    runner = Runner.from_cfg(cfg)
    runner.train()
    loop = runner.train_loop
    sched['stage2_iters_per_epoch'] = (len(loop.stage2_dataloader)
                                       if loop.stage2_dataloader is not None
                                       else 0)

    # ---------------- test ----------------
    from hrpro_plugin.engine.utils import unwrap
    model = unwrap(runner.model)
    TIMELINE.mark('test_start', log=False)
    with Recorder(model) as rec:
        metrics = runner.test()
    TIMELINE.mark('test_end', ends_phase='test')
    test_ds = runner.test_dataloader.dataset
    test_snippets = sum(int(test_ds.get_data_info(i)['num_snippets'])
                        for i in range(len(test_ds)))
    train_ds = runner.train_dataloader.dataset
    train_snippets = sum(int(train_ds.get_data_info(i)['num_snippets'])
                         for i in range(len(train_ds)))
    data['num_train'], data['num_test'] = len(train_ds), len(test_ds)
    data['test_snippets'] = test_snippets
    data['train_snippets'] = train_snippets

    # ---------------- phases ----------------
    mk, tl = TIMELINE.marks, TIMELINE
    n1, n2 = tl.iters['stage1'], tl.iters['stage2']
    full1 = full['stage1_iters']
    full2 = full['stage2_epochs'] * sched['stage2_iters_per_epoch']
    t_setup = mk['train_start'] - mk['start']
    t1 = mk['stage1_end'] - mk['train_start']
    tmine = mk['mining_end'] - mk['stage1_end']
    t2 = mk['stage2_end'] - mk['mining_end']
    ttest = mk['test_end'] - mk['test_start']
    fixed1 = mk.get('stage1_first_iter', mk['stage1_end']) - mk['train_start']
    loop1 = t1 - fixed1
    fixed2 = mk.get('stage2_first_iter', mk['stage2_end']) - mk['mining_end']
    loop2 = t2 - fixed2
    est1 = fixed1 + (loop1 / n1 * full1 if n1 else 0.0)
    est2 = fixed2 + (loop2 / n2 * full2 if n2 else 0.0)

    def rate(n, t):
        return n / t if t > 0 else None

    phases = dict(
        setup=dict(seconds=t_setup, peak_mem_mib=tl.peak.get('setup')),
        stage1=dict(seconds=t1, iterations=n1,
                    snippets=tl.snippets['stage1'],
                    padded_snippets=tl.padded['stage1'],
                    snippets_per_s=rate(tl.snippets['stage1'], t1),
                    fixed_s=fixed1, per_iteration_s=loop1 / n1 if n1 else None,
                    peak_mem_mib=tl.peak.get('stage1'), full_estimate_s=est1),
        mining=dict(seconds=tmine, snippets=train_snippets,
                    snippets_per_s=rate(train_snippets, tmine),
                    peak_mem_mib=tl.peak.get('mining'), full_estimate_s=tmine),
        stage2=dict(seconds=t2, iterations=n2,
                    snippets=tl.snippets['stage2'],
                    padded_snippets=tl.padded['stage2'],
                    snippets_per_s=rate(tl.snippets['stage2'], t2),
                    fixed_s=fixed2, per_iteration_s=loop2 / n2 if n2 else None,
                    peak_mem_mib=tl.peak.get('stage2'), full_estimate_s=est2),
        test=dict(seconds=ttest, snippets=test_snippets,
                  snippets_per_s=rate(test_snippets, ttest),
                  peak_mem_mib=tl.peak.get('test'), full_estimate_s=ttest),
    )
    peaks = [v for v in tl.peak.values() if v is not None]
    totals = dict(train_test_s=t1 + tmine + t2 + ttest,
                  with_setup_s=t_setup + t1 + tmine + t2 + ttest,
                  full_estimate_s=est1 + tmine + est2 + ttest,
                  peak_mem_mib=max(peaks) if peaks else None)

    res = dict(
        device=args.device,
        device_name=(torch.cuda.get_device_name() if cuda else cpu_name()),
        torch=torch.__version__, threads=torch.get_num_threads(),
        cpu_count=(len(os.sched_getaffinity(0))
                   if hasattr(os, 'sched_getaffinity') else os.cpu_count()),
        feat_dim=feat_dim, num_classes=int(cfg.num_classes),
        amp=bool(args.amp), bf16_active=bool(args.amp and cuda),
        command=' '.join([osp.relpath(osp.abspath(__file__), ROOT)] +
                         (argv if argv is not None else sys.argv[1:])),
        schedule=sched, data=data, phases=phases, totals=totals,
        metrics={k: float(v) for k, v in metrics.items()},
    )
    if TIMELINE.profiles:
        res['profiles'] = TIMELINE.profiles
        for name, prof in TIMELINE.profiles.items():
            with open(osp.join(work_dir, f'profile_{name}.txt'), 'w') as f:
                f.write(prof['top15'])

    # ---------------- proposal / soft-NMS comparison ----------------
    if not args.no_proposal_bench and args.bench_checkpoint:
        rec, res['bench_checkpoint'] = bench_checkpoint_outputs(
            runner, model, args.bench_checkpoint)
    if not args.no_proposal_bench and rec.candidates:
        print('[speed] timing proposal generation and soft-NMS against the '
              'naive references...', flush=True)
        with torch.no_grad():
            res['proposal_bench'] = proposal_bench(
                rec, model, args.device,
                args.repeats or (3 if cuda else 1),
                args.bench_batches or (8 if args.quick else None))
            res['proposal_bench']['test_batches'] = len(rec.candidates)
    if hasattr(os, 'getloadavg'):
        res['load_average'] = [load_start, os.getloadavg()[0]]

    text = report(res)
    print(text, flush=True)
    res['table'] = text
    out = osp.join(work_dir, 'speed.json')
    with open(out, 'w') as f:
        json.dump(res, f, indent=1)
    print(f'[speed] written to {out}', flush=True)
    pb = res.get('proposal_bench') or {}
    bad = [k for k in ('candidates', 'soft_nms')
           if k in pb and not pb[k]['same_outputs']]
    if bad:
        raise SystemExit(f'[speed] ours and the naive reference differ: '
                         f'{", ".join(bad)} (details in {out})')
    return res


if __name__ == '__main__':
    main()
