"""The snippet feature model of the synthetic datasets (see
``docs/synthetic.md``): dataset-level directions (:func:`make_feature_bank`)
and the ``[T, D]`` features of one video (:func:`synthesize_features`), a
sum of terms each drawn by one helper below, in a fixed order from the
video's generator (so the same generator gives the same features)."""
import math
from typing import Dict, Optional, Sequence

import numpy as np

from .params import FeatureModel

__all__ = ['make_feature_bank', 'instance_envelope', 'synthesize_features']


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



def _action_signal(rng, m: FeatureModel, seg: np.ndarray, labels: np.ndarray,
                   class_means: np.ndarray, u: np.ndarray):
    """Per-instance class signal: soft edges, centre-strong profile, weak
    sub-span, per-snippet jitter. Returns ``action [T, D]``, ``strength [N,
    T]``, ``envelope [N, T]`` and ``cover [T]`` (action membership)."""
    T, D, N = len(u), class_means.shape[1], seg.shape[0]
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
    return action, strength, env, cover


def _background(rng, m: FeatureModel, T: int, D: int,
                background_dirs: Optional[np.ndarray],
                cover: np.ndarray) -> np.ndarray:
    """Slowly varying background mixture, damped inside actions."""
    background = np.zeros((T, D))
    if background_dirs is not None and len(background_dirs):
        K = background_dirs.shape[0]
        base = rng.standard_normal(K) * (rng.random(K) < 0.4)
        w = base[None] + _smooth_time(rng.standard_normal(
            (T, K)), m.background_smooth)
        w *= m.background_amp / math.sqrt(max(1, K))
        w *= (1.0 - m.action_suppresses_background * cover)[:, None]
        background = w @ background_dirs
    return background


def _scene_and_context(rng, m: FeatureModel, seg: np.ndarray,
                       labels: np.ndarray,
                       context_means: Optional[np.ndarray], D: int,
                       u: np.ndarray, env: np.ndarray, cover: np.ndarray):
    """A video-level scene vector correlated with the video's classes, and
    context next to instances. Returns ``(scene, context)``, ``[T, D]``."""
    T, N = len(u), seg.shape[0]
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
    return scene, context


def _distractors(rng, m: FeatureModel, labels: np.ndarray,
                 class_means: np.ndarray, cover: np.ndarray) -> np.ndarray:
    """Bursts resembling a class in the background, ``[T, D]``."""
    T, (C, D), N = len(cover), class_means.shape, len(labels)
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
    return distractor


def _noise(rng, m: FeatureModel, T: int, D: int) -> np.ndarray:
    """White plus temporally smooth Gaussian noise, ``[T, D]``."""
    noise = m.noise_std * rng.standard_normal((T, D))
    if m.smooth_noise_std > 0:
        noise += m.smooth_noise_std * _smooth_time(rng.standard_normal(
            (T, D)), m.smooth_noise_width)
    return noise


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
    # the terms are drawn in this order from ``rng``
    action, strength, env, cover = _action_signal(rng, m, seg, labels,
                                                  class_means, u)
    background = _background(rng, m, T, D, background_dirs, cover)
    scene, context = _scene_and_context(rng, m, seg, labels, context_means,
                                        D, u, env, cover)
    distractor = _distractors(rng, m, labels, class_means, cover)
    noise = _noise(rng, m, T, D)

    feats = (action + background + scene + context + distractor +
             noise).astype(np.float32)
    if return_parts:
        return feats, dict(action=action, background=background,
                           scene=scene, context=context,
                           distractor=distractor, strength=strength,
                           envelope=env)
    return feats
