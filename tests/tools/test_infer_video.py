"""tools/infer.py --video: feature extraction (a small random MMAction2
recognizer) chained with detection, on videos written here."""
import json
import os
import os.path as osp

import numpy as np
import pytest

from _helpers import TINY_TRAIN_OPTIONS, make_tiny_dataset, run_tool

cv2 = pytest.importorskip('cv2')

# a 2-D recognizer whose first ResNet stage gives 64-d features
RECOGNIZER = """
model = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNet', depth=18, out_indices=(0, ), pretrained=None),
    cls_head=dict(type='TSNHead', num_classes=5, in_channels=64),
    data_preprocessor=dict(type='ActionDataPreprocessor',
                           mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375],
                           format_shape='NCHW'))
"""


def _write_video(path, n, seed):
    rng = np.random.default_rng(seed)
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 25.0,
                        (64, 48))
    level = 0
    for i in range(n):
        if i % 40 == 0:
            level = int(rng.integers(0, 255))
        w.write(np.full((48, 64, 3), level, np.uint8))
    w.release()


@pytest.mark.slow
def test_infer_video_gives_detections_in_seconds(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    data = make_tiny_dataset(tmp_path / 'data', feat_dim=64)
    work = str(tmp_path / 'run')
    run_tool('tools/train.py', 'configs/hrpro_synthetic.py', '--data-root',
             data, '--work-dir', work, '--cfg-options', *TINY_TRAIN_OPTIONS,
             env=env, timeout=300)
    videos = tmp_path / 'videos'
    videos.mkdir()
    _write_video(videos / 'clip_a.avi', 250, 0)   # 10 s: 16 snippets
    _write_video(videos / 'clip_b.avi', 130, 1)   # 5.2 s: 9 snippets
    (videos / 'broken.mp4').write_bytes(b'not a video')
    (tmp_path / 'r64.py').write_text(RECOGNIZER)
    out = str(tmp_path / 'out' / 'results.json')
    proc = run_tool('tools/infer.py', osp.join(work, 'hrpro_synthetic.py'),
                    osp.join(work, 'stage2.pth'), '--video', str(videos),
                    '--recognizer', str(tmp_path / 'r64.py'),
                    '--short-side', '40', '--crop-size', '32', '--out', out,
                    env=env, check=False, timeout=300)
    # the broken file is named and makes the exit code 1; the others are
    # detected and written
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines()[-1] == (
        'error: 1 video(s) could not be decoded: broken')
    assert 'features of 2 video(s) (16 frames a snippet at 25 fps)' in \
        proc.stdout
    feats = tmp_path / 'out' / 'features'
    assert np.load(feats / 'clip_a.npy').shape == (16, 64)
    assert np.load(feats / 'clip_b.npy').shape == (9, 64)
    with open(out) as f:
        results = json.load(f)['results']
    assert sorted(results) == ['clip_a', 'clip_b']
    for video, seconds in (('clip_a', 16 * 0.64), ('clip_b', 9 * 0.64)):
        dets = results[video]
        assert dets, video
        for d in dets:
            s, e = d['segment']
            assert 0 <= s < e <= seconds + 1e-6
    assert 'clip_a: ' in proc.stdout and '(16 snippets, 10.2 s)' in \
        proc.stdout


def test_infer_video_needs_a_recognizer(tiny_run):
    proc = run_tool('tools/infer.py', tiny_run['config'],
                    osp.join(tiny_run['work_dir'], 'stage2.pth'), '--video',
                    tiny_run['data_root'], check=False, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith(
        'error: --video needs --recognizer CONFIG')
