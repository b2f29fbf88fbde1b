"""Snippet features from raw videos with any MMAction2 recognizer.

A recognizer's backbone, followed by global average pooling, turns each
snippet (``snippet_frames`` frames, one every ``stride`` frames, at
``fps``) into one vector: ``features/<video>.npy`` of shape ``[T, D]`` in
the layout :class:`PointTALDataset` reads. RGB only: optical flow needs a
flow estimator this project does not ship (see ``tools/extract_features.py``).
"""
import json
import math
import os
import os.path as osp
from dataclasses import asdict, dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch

VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mkv', '.mov', '.webm', '.m4v', '.mpg',
                    '.mpeg')
SETTINGS_FILE = 'extraction.json'


class VideoDecodeError(RuntimeError):
    """A video that OpenCV cannot open or that holds no frame."""


@dataclass
class ExtractionSettings:
    snippet_frames: int = 16
    stride: int = 16
    fps: Optional[float] = None  # None: each video's own frame rate
    short_side: int = 256
    crop_size: int = 224
    batch_size: int = 8  # snippets a forward pass

    def check(self) -> None:
        for key in ('snippet_frames', 'stride', 'short_side', 'crop_size',
                    'batch_size'):
            value = getattr(self, key)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'{key} must be a positive integer, got '
                                 f'{value!r}')
        if self.crop_size > self.short_side:
            raise ValueError(f'crop_size ({self.crop_size}) must not exceed '
                             f'short_side ({self.short_side})')
        if self.fps is not None and not self.fps > 0:
            raise ValueError(f'fps must be > 0, got {self.fps!r}')


def list_videos(path: str) -> List[str]:
    """``path`` itself if it is a file, else its video files (sorted)."""
    if osp.isfile(path):
        return [path]
    if not osp.isdir(path):
        raise FileNotFoundError(f'{path}: no such file or folder')
    files = sorted(
        osp.join(path, n) for n in os.listdir(path)
        if n.lower().endswith(VIDEO_EXTENSIONS))
    if not files:
        raise FileNotFoundError(f'{path}: no video file '
                                f'({", ".join(VIDEO_EXTENSIONS)})')
    return files


def _resize_crop(frame: np.ndarray, short_side: int, crop: int) -> np.ndarray:
    import cv2
    h, w = frame.shape[:2]
    scale = short_side / min(h, w)
    nh, nw = max(crop, round(h * scale)), max(crop, round(w * scale))
    frame = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_AREA)
    top, left = (nh - crop) // 2, (nw - crop) // 2
    return frame[top:top + crop, left:left + crop]


def _output_index(num_frames: int, native: float,
                  fps: Optional[float]) -> np.ndarray:
    """Source frame of every output frame at ``fps`` (nearest in time; all
    frames when ``fps`` is None or the video's own)."""
    if fps is None or abs(fps - native) <= 1e-6:
        return np.arange(num_frames, dtype=np.int64)
    n_out = max(1, int(round(num_frames / native * fps)))
    return np.minimum(np.floor(np.arange(n_out) * native / fps + 1e-9),
                      num_frames - 1).astype(np.int64)


def _open(path: str):
    import cv2
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise VideoDecodeError(f'{path}: OpenCV cannot open this video')
    native = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    if not native > 0:
        cap.release()
        raise VideoDecodeError(f'{path}: the video reports no frame rate')
    return cap, native


def output_frames(path: str, settings: ExtractionSettings
                  ) -> Tuple[Iterator[np.ndarray], int, float, float]:
    """Stream ``path`` as RGB frames ``[crop, crop, 3]`` uint8 resampled to
    ``settings.fps``: ``(frames, number of output frames, the video's own
    fps, duration in seconds)``. A first pass counts the frames without
    decoding them (OpenCV's frame count is an estimate), so that memory
    stays one snippet window, not the whole video."""
    cap, native = _open(path)
    n = 0
    while cap.grab():
        n += 1
    cap.release()
    if n == 0:
        raise VideoDecodeError(f'{path}: no frame could be decoded')
    index = _output_index(n, native, settings.fps)

    def frames():
        cap, _ = _open(path)
        # output frames per source frame (0 when skipped, >1 when repeated)
        repeats = np.bincount(index, minlength=n)
        last, decoded = None, 0
        try:
            while decoded < n:
                ok, frame = cap.read()
                if not ok:
                    break
                last = _resize_crop(frame[:, :, ::-1], settings.short_side,
                                    settings.crop_size)
                for _ in range(repeats[decoded]):
                    yield last
                decoded += 1
        finally:
            cap.release()
        if last is None:
            raise VideoDecodeError(f'{path}: no frame could be decoded')
        # frames counted but not decoded: the last decoded one stands in
        for _ in range(int(repeats[decoded:].sum())):
            yield last

    return frames(), len(index), native, n / native


def read_frames(path: str, settings: ExtractionSettings
                ) -> Tuple[np.ndarray, float, float]:
    """All of :func:`output_frames` at once: ``[N, crop, crop, 3]``, the
    video's own fps and its duration (for short clips and tests)."""
    frames, _, native, duration = output_frames(path, settings)
    return np.stack(list(frames)), native, duration


def num_snippets(num_frames: int, settings: ExtractionSettings) -> int:
    """Snippet ``k`` starts at frame ``k x stride``; the last one may run
    past the end (padded with the last frame)."""
    return max(1, math.ceil(num_frames / settings.stride))


def snippet_clips(frames: Iterator[np.ndarray], num_frames: int,
                  settings: ExtractionSettings) -> Iterator[np.ndarray]:
    """``[n, snippet_frames, H, W, 3]`` batches of snippets, in order, from
    a stream of ``num_frames`` frames; only the frames of the snippets not
    yet emitted are held."""
    T = num_snippets(num_frames, settings)
    F, stride = settings.snippet_frames, settings.stride
    buf, base, batch = [], 0, []        # buf[j] is frame base + j
    stream = iter(frames)
    for t in range(T):
        start = t * stride
        need = min(start + F, num_frames)
        while base + len(buf) < need:
            buf.append(next(stream))
        del buf[:start - base]          # frames before this snippet
        base = start
        idx = np.minimum(np.arange(F), num_frames - 1 - start)
        batch.append(np.stack([buf[j] for j in idx]))
        if len(batch) == settings.batch_size or t == T - 1:
            yield np.stack(batch)
            batch = []


class SnippetFeatureExtractor:
    """A recognizer's backbone + global average pooling.

    Works with 3-D recognizers (``data_preprocessor.format_shape ==
    'NCTHW'``: one clip a snippet) and 2-D ones (``'NCHW'``: each frame
    alone, then the mean over the snippet's frames). Inputs are normalised
    with the recognizer's own ``data_preprocessor`` mean and std.
    """

    def __init__(self, recognizer: torch.nn.Module):
        self.model = recognizer.eval()
        pre = recognizer.data_preprocessor
        self.format_shape = getattr(pre, 'format_shape', 'NCTHW')
        if self.format_shape not in ('NCTHW', 'NCHW'):
            raise ValueError(f'unsupported recognizer input format '
                             f'{self.format_shape!r} (NCTHW or NCHW)')
        self.mean = getattr(pre, 'mean', None)
        self.std = getattr(pre, 'std', None)
        self.device = next(recognizer.parameters()).device

    def _normalise(self, x: torch.Tensor) -> torch.Tensor:
        # x: [..., C, ...] with channels at dim 1
        if self.mean is not None:
            shape = (1, -1) + (1, ) * (x.dim() - 2)
            x = (x - self.mean.view(shape).to(x)) / self.std.view(shape).to(x)
        return x

    @staticmethod
    def _pool(feat) -> torch.Tensor:
        if isinstance(feat, (tuple, list)):
            feat = feat[-1]
        return feat.flatten(2).mean(-1) if feat.dim() > 2 else feat

    @torch.no_grad()
    def __call__(self, clips: np.ndarray) -> np.ndarray:
        """``[n, F, H, W, 3]`` uint8 -> ``[n, D]`` float32."""
        x = torch.from_numpy(np.ascontiguousarray(clips)).to(
            self.device, torch.float32)
        n, f = x.shape[:2]
        if self.format_shape == 'NCTHW':
            x = self._normalise(x.permute(0, 4, 1, 2, 3))   # [n, 3, F, H, W]
            return self._pool(self.model.backbone(x)).float().cpu().numpy()
        x = self._normalise(x.flatten(0, 1).permute(0, 3, 1, 2))  # [nF,3,H,W]
        feat = self._pool(self.model.backbone(x))
        return feat.view(n, f, -1).mean(1).float().cpu().numpy()


def init_extractor(config: str, checkpoint: Optional[str],
                   device: str = 'cpu') -> SnippetFeatureExtractor:
    """Build the recognizer of an MMAction2 config (``checkpoint=None``:
    randomly initialised, for tests) and wrap it."""
    import hrpro_plugin  # noqa: F401  (mmaction import fixes)
    from mmaction.apis import init_recognizer
    return SnippetFeatureExtractor(
        init_recognizer(config, checkpoint, device=device))


def extract_video(extractor: SnippetFeatureExtractor, path: str,
                  settings: ExtractionSettings) -> Tuple[np.ndarray, Dict]:
    """Features ``[T, D]`` of one video and what was measured."""
    frames, num_frames, native, duration = output_frames(path, settings)
    feats = np.concatenate(
        [extractor(c) for c in snippet_clips(frames, num_frames, settings)])
    info = dict(frames=int(num_frames), native_fps=native,
                duration=round(duration, 4), num_snippets=int(len(feats)),
                feat_dim=int(feats.shape[1]))
    return feats.astype(np.float32), info


def extract_videos(extractor: SnippetFeatureExtractor, videos: Sequence[str],
                   out_dir: str, settings: ExtractionSettings,
                   record: Optional[Dict] = None,
                   progress: bool = True) -> Tuple[Dict, Dict]:
    """Write ``<out_dir>/<video>.npy`` for each video and
    ``<out_dir>/extraction.json`` (the settings, the recognizer, and each
    video's frames, fps, duration and ``T``). Returns ``(done, failed)``:
    per-video info, and the error text of each video that could not be
    decoded (the others are still written)."""
    from ..engine.log_utils import Progress
    settings.check()
    os.makedirs(out_dir, exist_ok=True)
    done, failed = {}, {}
    bar = Progress(len(videos), 'extracting features') if progress else None
    for path in videos:
        name = osp.splitext(osp.basename(path))[0]
        try:
            feats, info = extract_video(extractor, path, settings)
        except VideoDecodeError as err:
            failed[name] = str(err)
        else:
            np.save(osp.join(out_dir, f'{name}.npy'), feats)
            done[name] = info
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    meta = dict(settings=asdict(settings), snippet_seconds=(
        None if settings.fps is None else settings.stride / settings.fps),
        **(record or {}), videos=done, failed=failed)
    with open(osp.join(out_dir, SETTINGS_FILE), 'w') as f:
        json.dump(meta, f, indent=1)
    return done, failed
