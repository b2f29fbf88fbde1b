"""The parameters of the synthetic datasets: snippet geometry, how videos
and instances are drawn (:class:`VideoLayout`) and the feature model's
amplitudes (:class:`FeatureModel`)."""
import math
from dataclasses import dataclass
from typing import Tuple

__all__ = [
    'FEATURE_FPS', 'SNIPPET_FRAMES', 'SNIPPET_SECONDS', 'SYNTHETIC_FPS',
    'num_snippets', 'subset_to_split', 'VideoLayout', 'FeatureModel'
]

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

