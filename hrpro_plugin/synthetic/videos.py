"""Drawing the videos of a synthetic dataset: one video's duration,
instances and classes (:func:`sample_video`), one training point an
instance (:func:`sample_points`), and the generator of each video."""
import math
from typing import Sequence, Tuple

import numpy as np

from .params import SNIPPET_SECONDS, VideoLayout

__all__ = ['sample_video', 'sample_points', 'video_rng']


def video_rng(seed: int, index: int, stream: int) -> np.random.Generator:
    """The generator of video ``index`` for one ``stream`` (1: train
    videos, 2: test videos, 3: points, 4: features), independent of the
    other videos."""
    return np.random.default_rng([int(seed), int(index), int(stream)])


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

