"""Synthetic point-supervised TAL datasets (pure numpy).

Writes a dataset root in the layout users already have (``gt_full.json``,
``split_{train,test}.txt``, ``point_labels/point_gaussian.csv``,
``features/{train,test}/<video>.npy``) with snippet features drawn from a
generative model that is learnable but not trivial. Two modes:

* fully synthetic: videos, instances, classes and features are all drawn;
* ``annotations=FILE``: the real file's videos, durations, fps, subsets and
  segments are kept (the file is copied as is); only features and training
  points are drawn.

This module imports numpy and the standard library only and registers
nothing, so ``tools/make_synthetic_dataset.py`` can load it by path without
importing torch or OpenMMLab. See ``docs/synthetic.md`` for the model.
"""
import csv
import importlib.util
import io
import json
import math
import os
import os.path as osp
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

FEATURE_FPS = 25.0  # frame rate the snippet features are computed at
SNIPPET_FRAMES = 16  # frames per snippet -> 0.64 s
SNIPPET_SECONDS = SNIPPET_FRAMES / FEATURE_FPS
SYNTHETIC_FPS = 30.0  # native fps written for synthetic videos


def num_snippets(duration: float,
                 feature_fps: float = FEATURE_FPS,
                 snippet_frames: int = SNIPPET_FRAMES) -> int:
    """``ceil(duration * feature_fps / snippet_frames)``, at least 1.

    A 1e-6 tolerance keeps float error from adding a snippet when the
    duration is an exact multiple of the snippet length (``6.4 * 25 / 16``
    is ``10.000000000000002`` in binary floating point).
    """
    x = float(duration) * feature_fps / snippet_frames
    return max(1, int(math.ceil(x - 1e-6)))


def subset_to_split(subset: str) -> str:
    """Map a ``gt_full.json`` subset to ``'train'`` or ``'test'``.

    THUMOS14 trains on ``Validation`` and tests on ``Test``; GTEA, BEOID and
    ActivityNet train on ``training`` and test on ``validation``.
    """
    if subset in ('Validation', 'training', 'train'):
        return 'train'
    if subset in ('Test', 'test', 'testing', 'validation'):
        return 'test'
    raise ValueError(f'unknown subset {subset!r}: expected one of '
                     "'Validation'/'training' (train) or "
                     "'Test'/'validation' (test)")


# ----------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class VideoLayout:
    """How videos and instances are drawn (fully synthetic mode only).

    THUMOS14 for reference: ~330 snippets a video (log-std of durations
    0.88, max ~2,600), instances ~4.3 s (median 3 s, log-std 0.84), ~30% of
    time is action, ~15 instances a video, 85% of videos hold one class.
    """
    mean_snippets: float = 150.0  # mean video length (snippets)
    snippets_log_std: float = 0.6  # log-normal spread of video length
    min_snippets: int = 30
    max_snippets: int = 2600
    instance_mean_seconds: float = 4.0  # mean instance length
    instance_log_std: float = 0.75  # log-normal spread of instance length
    min_instance_seconds: float = 0.4
    max_instance_seconds: float = 60.0
    coverage_mean: float = 0.3  # fraction of a video that is action
    coverage_concentration: float = 12.0  # Beta(a, b) with a + b = this
    classes_per_video_probs: Tuple[float, ...] = (0.7, 0.25, 0.05)
    fps: float = SYNTHETIC_FPS


@dataclass(frozen=True)
class FeatureModel:
    """Snippet feature model. Amplitudes are in units of a unit direction;
    ``noise_std`` is per dimension, so the per-direction signal-to-noise
    ratio, and so the difficulty, does not depend on ``feat_dim``."""
    # action signal
    actionness_share: float = 0.6  # cos to a direction shared by classes
    action_amp: float = 1.2  # mean peak amplitude of an instance
    action_amp_log_std: float = 0.3  # per-instance amplitude spread
    instance_jitter: float = 0.5  # per-instance direction perturbation
    ramp_snippets: float = 0.4  # sigmoid edge scale (10-90%: 1.8 snip)
    edge_floor: float = 0.45  # strength at instance ends (1 at centre)
    weak_span_prob: float = 0.6  # chance an instance has a weak part
    weak_span_frac: Tuple[float, float] = (0.2, 0.45)  # its relative length
    weak_span_gain: float = 0.4  # strength multiplier inside it
    snippet_jitter: float = 0.2  # log-normal per-snippet strength noise
    # background, scene and context
    num_background_dirs: int = 8
    background_amp: float = 0.7  # slowly varying background mixture
    background_smooth: float = 6.0  # its temporal smoothing (snippets)
    action_suppresses_background: float = 0.6
    scene_amp: float = 0.5  # video-level scene vector (all snippets)
    scene_class_share: float = 0.6  # its share of the video's class contexts
    context_class_share: float = 0.45  # cos(class context dir, class dir)
    context_amp: float = 0.5  # context next to instances
    context_width: float = 3.0  # its exponential decay (snippets)
    # distractors
    distractor_rate: float = 0.025  # bursts per background snippet
    distractor_len: Tuple[int, int] = (1, 3)  # snippets
    distractor_amp: float = 0.5
    distractor_class_share: float = 0.7  # cos(distractor dir, class dir)
    distractor_in_video_prob: float = 0.5  # class drawn from video's classes
    # noise
    noise_std: float = 0.25  # white, per dimension
    smooth_noise_std: float = 0.12  # temporally smooth, per dimension
    smooth_noise_width: float = 3.0


# ----------------------------------------------------------------------------
# Feature model
# ----------------------------------------------------------------------------
def _unit_rows(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(n, 1e-12)


def _random_units(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    return _unit_rows(rng.standard_normal((n, d)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _smooth_time(x: np.ndarray, width: float) -> np.ndarray:
    """Gaussian smoothing along axis 0 of ``[T, K]``, renormalised to unit
    variance for white input."""
    if width <= 0 or x.shape[0] < 2:
        return x
    half = int(math.ceil(3 * width))
    k = np.exp(-0.5 * (np.arange(-half, half + 1) / width)**2)
    k /= np.sqrt((k**2).sum())
    n = x.shape[0]
    out = np.empty_like(x)
    for j in range(x.shape[1]):
        out[:, j] = np.convolve(x[:, j], k, mode='full')[half:half + n]
    return out


def make_feature_bank(
    rng: np.random.Generator,
    num_classes: int,
    feat_dim: int,
    model: FeatureModel = FeatureModel()) -> Dict[str, np.ndarray]:
    """Dataset-level directions.

    Returns ``class_means [C, D]`` (unit; cos between two classes is
    ``actionness_share ** 2``), ``context_means [C, D]`` (unit; cos to its
    class ``context_class_share``), ``background_dirs [K, D]`` (unit) and
    ``actionness [D]``. Directions are orthonormal where ``D`` allows.
    """
    c, k = num_classes, model.num_background_dirs
    need = 1 + 2 * c + k
    if feat_dim >= need:
        q, _ = np.linalg.qr(rng.standard_normal((feat_dim, need)))
        basis = q.T
    else:
        basis = _random_units(rng, need, feat_dim)
    actionness = basis[0]
    specific = basis[1:1 + c]
    ctx_specific = basis[1 + c:1 + 2 * c]
    bg = basis[1 + 2 * c:]
    a = model.actionness_share
    class_means = _unit_rows(a * actionness[None] +
                             math.sqrt(1 - a * a) * specific)
    s = model.context_class_share
    context_means = _unit_rows(s * class_means +
                               math.sqrt(1 - s * s) * ctx_specific)
    return dict(class_means=class_means.astype(np.float64),
                context_means=context_means.astype(np.float64),
                background_dirs=bg.astype(np.float64),
                actionness=actionness.astype(np.float64))


def instance_envelope(num_snippets_: int, segments_snippets: np.ndarray,
                      ramp: float) -> np.ndarray:
    """Soft membership ``[N, T]`` of snippet centres in each segment:
    ``sigmoid((u - s) / ramp) * sigmoid((e - u) / ramp)``, ``u = t + 0.5``."""
    seg = np.asarray(segments_snippets, dtype=np.float64).reshape(-1, 2)
    u = np.arange(num_snippets_, dtype=np.float64)[None] + 0.5
    return (_sigmoid((u - seg[:, :1]) / ramp) * _sigmoid(
        (seg[:, 1:] - u) / ramp))


def synthesize_features(rng: np.random.Generator,
                        num_snippets: int,
                        segments_snippets: np.ndarray,
                        labels: Sequence[int],
                        class_means: np.ndarray,
                        context_means: Optional[np.ndarray] = None,
                        background_dirs: Optional[np.ndarray] = None,
                        model: FeatureModel = FeatureModel(),
                        return_parts: bool = False):
    """Draw the ``float32 [T, D]`` snippet features of one video.

    Args:
        rng: the video's generator (all randomness comes from it).
        num_snippets: ``T``.
        segments_snippets: ``[N, 2]`` instance bounds in snippet units
            (seconds / 0.64; snippet ``i`` spans ``[i, i + 1)``).
        labels: ``[N]`` class indices.
        class_means: ``[C, D]`` unit class directions.
        context_means: ``[C, D]`` class context directions, or None for no
            scene / context terms.
        background_dirs: ``[K, D]`` background directions, or None for no
            structured background.
        model: the :class:`FeatureModel`.
        return_parts: also return a dict of the noiseless terms
            (``action``, ``background``, ``scene``, ``context``,
            ``distractor`` as ``[T, D]``), ``strength [N, T]`` (the class
            signal amplitude of each instance, envelope included) and
            ``envelope [N, T]`` (the soft membership alone).

    Sum of: per-instance class signal (soft edges, centre-strong profile,
    weak sub-span, per-snippet jitter); slowly varying background mixture,
    damped inside actions; a video-level scene vector correlated with the
    video's classes; context next to instances; distractor bursts resembling
    a class in the background; white plus temporally smooth Gaussian noise.
    """
    m = model
    T = int(num_snippets)
    class_means = np.asarray(class_means, dtype=np.float64)
    C, D = class_means.shape
    seg = np.asarray(segments_snippets, dtype=np.float64).reshape(-1, 2)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    N = seg.shape[0]
    if labels.shape[0] != N:
        raise ValueError(f'{N} segments but {labels.shape[0]} labels')
    if N and (labels.min() < 0 or labels.max() >= C):
        raise ValueError(f'labels must be in [0, {C})')
    u = np.arange(T, dtype=np.float64) + 0.5

    # --- action signal -------------------------------------------------------
    env = instance_envelope(T, seg, m.ramp_snippets)  # [N, T]
    length = np.maximum(seg[:, 1] - seg[:, 0], 1e-3)
    r = np.clip((u[None] - seg[:, :1]) / length[:, None], 0.0, 1.0)
    profile = m.edge_floor + (1 - m.edge_floor) * np.sin(np.pi * r)
    has_weak = rng.random(N) < m.weak_span_prob
    wfrac = rng.uniform(m.weak_span_frac[0], m.weak_span_frac[1], N)
    wstart = rng.uniform(0.0, 1.0 - wfrac)
    wsharp = 0.5 / np.maximum(length, 1.0)  # half-snippet soft edges
    inside_weak = (_sigmoid(
        (r - wstart[:, None]) / wsharp[:, None]) * _sigmoid(
            (wstart[:, None] + wfrac[:, None] - r) / wsharp[:, None]))
    weak = 1.0 - (1.0 - m.weak_span_gain) * inside_weak * has_weak[:, None]
    amp = m.action_amp * np.exp(m.action_amp_log_std * rng.standard_normal(N) -
                                0.5 * m.action_amp_log_std**2)
    jitter = np.exp(m.snippet_jitter * rng.standard_normal((N, T)))
    strength = amp[:, None] * env * profile * weak * jitter  # [N, T]
    inst_dirs = _unit_rows(class_means[labels] + m.instance_jitter *
                           _random_units(rng, N, D)) if N else \
        np.zeros((0, D))
    action = strength.T @ inst_dirs  # [T, D]
    cover = np.clip(env.sum(0), 0.0, 1.0) if N else np.zeros(T)  # [T]

    # --- background mixture --------------------------------------------------
    background = np.zeros((T, D))
    if background_dirs is not None and len(background_dirs):
        K = background_dirs.shape[0]
        base = rng.standard_normal(K) * (rng.random(K) < 0.4)
        w = base[None] + _smooth_time(rng.standard_normal(
            (T, K)), m.background_smooth)
        w *= m.background_amp / math.sqrt(max(1, K))
        w *= (1.0 - m.action_suppresses_background * cover)[:, None]
        background = w @ background_dirs

    # --- scene and context ---------------------------------------------------
    scene = np.zeros((T, D))
    context = np.zeros((T, D))
    if context_means is not None:
        vids_classes = np.unique(labels)
        s = m.scene_class_share
        rand = _random_units(rng, 1, D)[0]
        if len(vids_classes):
            cls = _unit_rows(context_means[vids_classes].sum(0)[None])[0]
            scene_dir = _unit_rows(
                (s * cls + math.sqrt(1 - s * s) * rand)[None])[0]
        else:
            scene_dir = rand
        scene = np.broadcast_to(m.scene_amp * scene_dir, (T, D)).copy()
        if N:
            dist = np.maximum(
                np.maximum(seg[:, :1] - u[None], u[None] - seg[:, 1:]), 0.0)
            near = np.exp(-dist / m.context_width) * (1.0 - env)  # [N, T]
            near *= (1.0 - cover)[None]
            context = m.context_amp * (near.T @ context_means[labels])

    # --- distractors ---------------------------------------------------------
    distractor = np.zeros((T, D))
    bg_idx = np.flatnonzero(cover < 0.1)
    n_d = rng.poisson(m.distractor_rate * len(bg_idx)) if len(bg_idx) else 0
    if n_d:
        centres = rng.choice(bg_idx, size=n_d) + rng.random(n_d)
        lens = rng.integers(m.distractor_len[0], m.distractor_len[1] + 1, n_d)
        in_video = (rng.random(n_d) < m.distractor_in_video_prob) & (N > 0)
        cls = np.where(in_video,
                       labels[rng.integers(0, max(N, 1), n_d)] if N else 0,
                       rng.integers(0, C, n_d))
        sh = m.distractor_class_share
        ddirs = _unit_rows(sh * class_means[cls] +
                           math.sqrt(1 - sh * sh) * _random_units(rng, n_d, D))
        dseg = np.stack([centres - lens / 2, centres + lens / 2], 1)
        denv = instance_envelope(T, dseg, m.ramp_snippets)
        damp = m.distractor_amp * rng.uniform(0.6, 1.4, n_d)
        distractor = (denv * damp[:, None] * (1.0 - cover)[None]).T @ ddirs

    # --- noise ---------------------------------------------------------------
    noise = m.noise_std * rng.standard_normal((T, D))
    if m.smooth_noise_std > 0:
        noise += m.smooth_noise_std * _smooth_time(rng.standard_normal(
            (T, D)), m.smooth_noise_width)

    feats = (action + background + scene + context + distractor +
             noise).astype(np.float32)
    if return_parts:
        return feats, dict(action=action, background=background,
                           scene=scene, context=context,
                           distractor=distractor, strength=strength,
                           envelope=env)
    return feats


# ----------------------------------------------------------------------------
# Videos, instances, points
# ----------------------------------------------------------------------------
def sample_video(
    rng: np.random.Generator,
    classes: Sequence[int],
    layout: VideoLayout = VideoLayout()
) -> Tuple[float, np.ndarray, np.ndarray]:
    """Draw one video: ``(duration_s, segments [N, 2] s, labels [N])``.

    ``classes`` are the video's classes (each gets at least one instance).
    Instances do not overlap; segments are rounded to 0.1 s like THUMOS14.
    """
    L = layout
    mu = math.log(L.mean_snippets) - 0.5 * L.snippets_log_std**2
    t = float(
        np.clip(rng.lognormal(mu, L.snippets_log_std), L.min_snippets,
                L.max_snippets))
    duration = round(t * SNIPPET_SECONDS, 2)
    while abs(duration / SNIPPET_SECONDS -
              round(duration / SNIPPET_SECONDS)) < 1e-4:
        duration = round(duration + 0.01, 2)  # stay off exact snippet ends
    a = L.coverage_mean * L.coverage_concentration
    b = (1 - L.coverage_mean) * L.coverage_concentration
    coverage = rng.beta(a, b)
    imu = math.log(L.instance_mean_seconds) - 0.5 * L.instance_log_std**2
    expect = coverage * duration / L.instance_mean_seconds
    lens = np.clip(rng.lognormal(imu, L.instance_log_std,
                                 int(4 * expect) + 8), L.min_instance_seconds,
                   L.max_instance_seconds)
    cum = np.cumsum(lens)
    target = coverage * duration
    i = min(int(np.searchsorted(cum, target)), len(cum) - 1)  # cum[i] >= t
    n = i + 1 if i == 0 or cum[i] - target < target - cum[i - 1] else i
    n = max(n, len(classes))
    lens = lens[:n] if n <= len(lens) else np.concatenate(
        [lens, np.full(n - len(lens), L.min_instance_seconds)])
    # fit: keep at least 20% of the video as background
    while lens.sum() > 0.8 * duration and len(lens) > len(classes):
        lens = lens[:-1]
    if lens.sum() > 0.8 * duration:
        lens = lens * (0.8 * duration / lens.sum())
    n = len(lens)
    gaps = rng.dirichlet(np.ones(n + 1)) * (duration - lens.sum())
    starts = np.cumsum(gaps[:n]) + np.concatenate([[0.0],
                                                   np.cumsum(lens)[:-1]])
    ends = starts + lens
    starts = np.round(starts, 1)
    ends = np.minimum(np.round(ends, 1), math.floor(duration * 10) / 10)
    ends = np.maximum(ends, starts + 0.1)
    segs = np.round(np.stack([starts, ends], 1), 1)
    classes = np.asarray(classes, dtype=np.int64)
    labels = np.concatenate([classes, rng.choice(classes, n - len(classes))])
    labels = labels[rng.permutation(n)]
    return duration, segs, labels


def sample_points(rng: np.random.Generator,
                  start_frames: np.ndarray,
                  stop_frames: np.ndarray,
                  rel_std: float = 1 / 6) -> np.ndarray:
    """One point per instance: a native frame index from a Gaussian with
    mean at the instance centre and std ``rel_std * length``, rounded and
    clipped to ``[ceil(start), floor(stop)]`` (the nearest frame to the
    centre when no integer frame lies inside)."""
    s = np.asarray(start_frames, dtype=np.float64)
    e = np.asarray(stop_frames, dtype=np.float64)
    c = 0.5 * (s + e)
    p = np.round(c + rel_std * (e - s) * rng.standard_normal(s.shape))
    lo, hi = np.ceil(s - 1e-9), np.floor(e + 1e-9)
    ok = lo <= hi
    p = np.where(ok, np.clip(p, lo, hi), np.round(c))
    return p.astype(np.int64)


# ----------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------
def _video_rng(seed: int, index: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(index), int(stream)])


def _dir_size(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += osp.getsize(osp.join(root, f))
    return total


def _annotations():
    """The dataset's parser, ``annotations.py`` beside this file (numpy and
    the standard library only), loaded by path like this module (see
    ``tools/make_synthetic_dataset.py``), so torch is still not imported."""
    name = '_hrpro_annotations'
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, osp.join(osp.dirname(osp.abspath(__file__)),
                           'annotations.py'))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


def _read_lines(path: str) -> List[str]:
    """A split file, read by the dataset's parser (a name listed twice is
    an error)."""
    return _annotations().load_split(path)


def _class_list(database: dict) -> List[str]:
    """Labels of the file, ordered by ``label_id`` where every annotation
    has one, else alphabetically."""
    ids = {}
    complete = True
    for v in database.values():
        for a in v.get('annotations', []):
            if 'label_id' in a:
                ids.setdefault(a['label'], int(a['label_id']))
            else:
                complete = False
                ids.setdefault(a['label'], None)
    if complete and ids and len(set(ids.values())) == len(ids):
        return sorted(ids, key=lambda k: ids[k])
    return sorted(ids)


#: file that :func:`generate_dataset` writes in every root it makes (its
#: arguments): the features there are synthetic, whatever the annotations.
SYNTHETIC_MARKER = 'synthetic.json'


def generate_dataset(out_dir: str,
                     num_classes: int = 5,
                     num_train: int = 60,
                     num_test: int = 30,
                     feat_dim: int = 64,
                     seed: int = 0,
                     annotations: Optional[str] = None,
                     layout: VideoLayout = VideoLayout(),
                     model: FeatureModel = FeatureModel(),
                     point_rel_std: float = 1 / 6,
                     log: Optional[Callable[[str], None]] = print) -> dict:
    """Write a synthetic dataset root to ``out_dir`` and return a summary.

    Fully synthetic unless ``annotations`` names a ``gt_full.json``: then
    its videos, durations, fps, subsets and segments are kept (the file,
    and ``split_train.txt`` / ``split_test.txt`` / ``Ambiguous_test.txt``
    beside it, are copied), ``num_classes`` / ``num_train`` / ``num_test``
    are ignored and the class list is the file's labels.

    Same arguments give byte-identical files. Points are written for the
    training videos only (one per instance that starts inside its video),
    like THUMOS14's CSV.
    """
    t0 = time.time()
    say = log or (lambda s: None)
    os.makedirs(out_dir, exist_ok=True)
    # one tuple a video:
    # (name, split, duration_s, fps, segments_s [N, 2], labels [N],
    #  segments_frames [N, 2])
    videos = []

    if annotations is None:
        if num_classes < 1 or feat_dim < 1:
            raise ValueError('num_classes and feat_dim must be >= 1')
        if num_train < num_classes or num_test < 1:
            raise ValueError(
                f'num_train ({num_train}) must be >= num_classes '
                f'({num_classes}) so every class has a training point, and '
                'num_test >= 1')
        classes = [f'class_{i:02d}' for i in range(num_classes)]
        probs = np.asarray(layout.classes_per_video_probs[:num_classes], float)
        probs /= probs.sum()
        mode = 'synthetic'
        rng_meta = np.random.default_rng([int(seed), 0xC1A55])
        todo = (('train', num_train, 1), ('test', num_test, 2))
        for split, count, stream in todo:
            primary = rng_meta.permutation(np.arange(count) % num_classes)
            for i in range(count):
                vrng = _video_rng(seed, i, stream)
                k = 1 + int(vrng.choice(len(probs), p=probs))
                others = vrng.permutation(
                    np.setdiff1d(np.arange(num_classes), [primary[i]]))[:k - 1]
                vcls = np.concatenate([[primary[i]], others]).astype(np.int64)
                dur, segs, labels = sample_video(vrng, vcls, layout)
                name = f'synthetic_{split}_{i:04d}'
                fps = float(layout.fps)
                videos.append((name, split, dur, fps, segs, labels,
                               np.round(segs * fps, 6)))
        database = {}
        for name, split, dur, fps, segs, labels, frames in videos:
            database[name] = dict(
                subset='Validation' if split == 'train' else 'Test',
                duration=dur,
                fps=fps,
                annotations=[{
                    'label': classes[int(c)],
                    'segment': [float(s), float(e)],
                    'segment(frames)': [float(fs), float(fe)],
                    'label_id': int(c)
                } for (s, e), (fs, fe), c in zip(segs, frames, labels)])
        provenance = dict(seed=seed, num_classes=num_classes,
                          num_train=num_train, num_test=num_test,
                          feat_dim=feat_dim, layout=asdict(layout),
                          feature_model=asdict(model),
                          point_rel_std=point_rel_std)
        gt = {'version': f'synthetic-hrpro-v1 (seed={seed})',
              'synthetic': provenance,
              'database': database}
        with open(osp.join(out_dir, 'gt_full.json'), 'w') as f:
            json.dump(gt, f, indent=1)
            f.write('\n')
        for split in ('train', 'test'):
            with open(osp.join(out_dir, f'split_{split}.txt'), 'w') as f:
                f.writelines(f'{v[0]}\n' for v in videos if v[1] == split)
    else:
        mode = 'annotations'
        # the dataset's parser: a file it would refuse is refused here
        database = _annotations().load_gt_database(annotations)
        classes = _class_list(database)
        num_classes = len(classes)
        cidx = {c: i for i, c in enumerate(classes)}
        src = osp.dirname(osp.abspath(annotations))
        split_of = {}
        for split in ('train', 'test'):
            p = osp.join(src, f'split_{split}.txt')
            if osp.exists(p):
                for v in _read_lines(p):
                    split_of.setdefault(v, split)
        for name in sorted(database):
            v = database[name]
            split = split_of.get(name) or subset_to_split(v['subset'])
            fps = float(v.get('fps', SYNTHETIC_FPS))
            anns = v.get('annotations', [])
            segs = np.asarray([a['segment'] for a in anns],
                              float).reshape(-1, 2)
            labels = np.asarray([cidx[a['label']] for a in anns], np.int64)
            frames = np.asarray([
                a.get('segment(frames)',
                      [a['segment'][0] * fps, a['segment'][1] * fps])
                for a in anns
            ], float).reshape(-1, 2)
            videos.append(
                (name, split, float(v['duration']), fps, segs, labels, frames))
        if osp.abspath(annotations) != osp.abspath(
                osp.join(out_dir, 'gt_full.json')):
            shutil.copyfile(annotations, osp.join(out_dir, 'gt_full.json'))
        for fname in ('split_train.txt', 'split_test.txt',
                      'Ambiguous_test.txt'):
            p = osp.join(src, fname)
            dst = osp.join(out_dir, fname)
            if osp.exists(p):
                if osp.abspath(p) != osp.abspath(dst):
                    shutil.copyfile(p, dst)
            elif fname != 'Ambiguous_test.txt':
                split = fname[len('split_'):-len('.txt')]
                with open(dst, 'w') as f:
                    f.writelines(f'{v[0]}\n' for v in videos if v[1] == split)
        missing = sorted(
            set(classes) -
            {classes[int(c)]
             for v in videos if v[1] == 'train' for c in v[5]})
        if missing:
            say(f'[synthetic] warning: classes without a training instance: '
                f'{missing}')

    # --- points (train videos only) ------------------------------------------
    # start_frame / stop_frame are the instance's frames rounded to integers,
    # as in THUMOS14's CSV; the point is an integer frame inside the instance.
    # Like THUMOS14's CSV: an instance that starts at or after the end of its
    # video gets no point; one that runs past the end gets a point in the
    # part inside the video.
    rows = []
    no_point = 0
    for k, (name, split, dur, fps, segs, labels, frames) in enumerate(videos):
        if split != 'train' or len(labels) == 0:
            continue
        end_frame = dur * fps
        visible = frames[:, 0] < end_frame
        no_point += int((~visible).sum())
        pts = np.zeros(len(labels), np.int64)
        pts[visible] = sample_points(_video_rng(seed, k, 3),
                                     frames[visible, 0],
                                     np.minimum(frames[visible, 1], end_frame),
                                     point_rel_std)
        order = np.lexsort((np.arange(len(labels)), frames[:, 0]))
        for j in order[visible[order]]:
            start, stop = (int(round(x)) for x in frames[j])
            rows.append((classes[int(labels[j])], int(labels[j]), start, stop,
                         name, int(pts[j])))
    rows.sort(key=lambda r: r[4])  # stable: keeps time order within a video
    os.makedirs(osp.join(out_dir, 'point_labels'), exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator='\n')
    w.writerow(['class', 'class_index', 'start_frame', 'stop_frame',
                'video_id', 'point'])
    w.writerows(rows)
    with open(osp.join(out_dir, 'point_labels', 'point_gaussian.csv'),
              'w') as f:
        f.write(buf.getvalue())

    # --- features ------------------------------------------------------------
    bank = make_feature_bank(np.random.default_rng([int(seed), 0xBA4C]),
                             num_classes, feat_dim, model)
    for split in ('train', 'test'):
        fdir = osp.join(out_dir, 'features', split)
        os.makedirs(fdir, exist_ok=True)
        ours = {f'{v[0]}.npy' for v in videos if v[1] == split}
        stale = sorted(set(os.listdir(fdir)) - ours)
        if stale:
            say(f'[synthetic] warning: {fdir} holds {len(stale)} file(s) '
                f'of no video of this dataset (e.g. {stale[0]}); '
                'they are left in place')
    n = len(videos)
    step = max(1, int(math.ceil(n / 10)))
    total_T = 0
    for k, (name, split, dur, fps, segs, labels, frames) in enumerate(videos):
        T = num_snippets(dur)
        total_T += T
        feats = synthesize_features(_video_rng(seed, k, 4), T,
                                    segs / SNIPPET_SECONDS, labels,
                                    bank['class_means'], bank['context_means'],
                                    bank['background_dirs'], model)
        np.save(osp.join(out_dir, 'features', split, f'{name}.npy'), feats)
        if (k + 1) % step == 0 or k + 1 == n:
            say(f'[synthetic] {k + 1}/{n} videos ({100 * (k + 1) // n}%)')

    # --- provenance: marks the root as synthetic for every tool -------------
    with open(osp.join(out_dir, SYNTHETIC_MARKER), 'w') as f:
        json.dump(dict(generator='hrpro_plugin.datasets.synthetic',
                       mode=mode, seed=int(seed), feat_dim=int(feat_dim),
                       annotations=annotations, layout=asdict(layout),
                       feature_model=asdict(model),
                       point_rel_std=point_rel_std), f, indent=1)
        f.write('\n')

    # --- summary -------------------------------------------------------------
    n_inst = [len(v[5]) for v in videos]
    lens = np.concatenate([v[4][:, 1] - v[4][:, 0]
                           for v in videos] + [np.zeros(0)])
    cov = []
    for name, split, dur, fps, segs, labels, frames in videos:
        grid = np.arange(0.05, dur, 0.1)
        inside = np.zeros(len(grid), bool)
        for s, e in segs:
            inside |= (grid >= s) & (grid < e)
        cov.append(inside.mean() if len(grid) else 0.0)
    summary = dict(
        out_dir=osp.abspath(out_dir),
        mode=mode,
        seed=int(seed),
        num_classes=num_classes,
        classes=classes,
        feat_dim=int(feat_dim),
        num_train=sum(v[1] == 'train' for v in videos),
        num_test=sum(v[1] == 'test' for v in videos),
        num_instances=int(sum(n_inst)),
        num_points=len(rows),
        train_instances_without_point=no_point,
        mean_instances_per_video=float(np.mean(n_inst)) if n else 0.0,
        mean_snippets=total_T / max(n, 1),
        max_snippets=max((num_snippets(v[2]) for v in videos), default=0),
        mean_instance_seconds=float(lens.mean()) if len(lens) else 0.0,
        action_coverage=float(np.mean(cov)) if cov else 0.0,
        bytes_on_disk=_dir_size(out_dir),
        seconds=time.time() - t0)
    say(f'[synthetic] wrote {summary["num_train"]} train + '
        f'{summary["num_test"]} '
        f'test videos, {summary["num_instances"]} instances, '
        f'{summary["num_points"]} points, {num_classes} classes, D={feat_dim} '
        f'to {summary["out_dir"]} '
        f'({summary["bytes_on_disk"] / 2 ** 20:.1f} MiB, '
        f'{summary["seconds"]:.1f} s)')
    return summary
