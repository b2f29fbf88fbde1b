"""tools/extract_features.py on small videos written here (OpenCV) with
small randomly initialised MMAction2 recognizers: no download."""
import json
import os.path as osp

import numpy as np
import pytest

from _helpers import run_tool

cv2 = pytest.importorskip('cv2')

RECOGNIZER_3D = """
model = dict(
    type='Recognizer3D',
    backbone=dict(type='X3D', gamma_w=1, gamma_b=2.25, gamma_d=1.0),
    cls_head=dict(type='X3DHead', in_channels=432, num_classes=5,
                  spatial_type='avg', dropout_ratio=0.0, fc1_bias=False),
    data_preprocessor=dict(type='ActionDataPreprocessor',
                           mean=[114.75, 114.75, 114.75],
                           std=[57.375, 57.375, 57.375],
                           format_shape='NCTHW'))
"""
RECOGNIZER_2D = """
model = dict(
    type='Recognizer2D',
    backbone=dict(type='MobileNetV2', widen_factor=0.25),
    cls_head=dict(type='TSNHead', num_classes=5, in_channels=1280),
    data_preprocessor=dict(type='ActionDataPreprocessor',
                           mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375],
                           format_shape='NCHW'))
"""
SMALL = ['--short-side', '40', '--crop-size', '32']


def write_video(path, colors, fps=25.0, size=(64, 48)):
    """One frame a grey level in ``colors`` (MJPG keeps flat frames
    flat)."""
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), fps,
                        size)
    for c in colors:
        w.write(np.full((size[1], size[0], 3), c, np.uint8))
    w.release()
    return str(path)


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp('videos')
    # 16 black frames, then 24 white: snippets [black], [white], [8 white
    # + 8 copies of the last, white]
    write_video(root / 'steps.avi', [0] * 16 + [255] * 24)
    write_video(root / 'long.avi', [128] * 75)
    (root / 'broken.mp4').write_bytes(b'not a video')
    return root


@pytest.fixture(scope='module')
def recognizers(tmp_path_factory):
    root = tmp_path_factory.mktemp('recognizers')
    (root / 'r3d.py').write_text(RECOGNIZER_3D)
    (root / 'r2d.py').write_text(RECOGNIZER_2D)
    return root


@pytest.mark.parametrize('kind,dim', [('r3d', 432), ('r2d', 1280)])
def test_features_layout_lengths_and_content(videos, recognizers, tmp_path,
                                             kind, dim):
    from hrpro_plugin.apis.feature_extraction import (ExtractionSettings,
                                                      extract_videos,
                                                      init_extractor,
                                                      list_videos)
    out = str(tmp_path / 'features')
    ex = init_extractor(str(recognizers / f'{kind}.py'), None)
    done, failed = extract_videos(
        ex, list_videos(str(videos)), out,
        ExtractionSettings(short_side=40, crop_size=32, batch_size=2),
        progress=False)
    # T = ceil(frames / stride): 40 -> 3, 75 -> 5
    assert {k: v['num_snippets'] for k, v in done.items()} == dict(
        steps=3, long=5)
    assert list(failed) == ['broken']
    assert 'OpenCV cannot open this video' in failed['broken']
    f = np.load(osp.join(out, 'steps.npy'))
    assert f.shape == (3, dim) and f.dtype == np.float32
    assert np.load(osp.join(out, 'long.npy')).shape == (5, dim)
    # snippet order and padding: black differs from white; the padded last
    # snippet is all white, as the second
    # snippet is all white, as the second (relative to the features' scale:
    # a random MobileNetV2 gives tiny values on flat frames)
    scale = np.abs(f).max()
    assert np.abs(f[0] - f[1]).max() > 0.05 * scale
    assert np.abs(f[2] - f[1]).max() < 1e-3 * scale
    with open(osp.join(out, 'extraction.json')) as fh:
        record = json.load(fh)
    assert record['settings']['stride'] == 16
    assert record['videos']['long']['duration'] == pytest.approx(3.0)
    assert record['failed'] == failed


def test_fps_resampling_sets_the_snippet_count(videos, recognizers):
    from hrpro_plugin.apis.feature_extraction import (ExtractionSettings,
                                                      read_frames,
                                                      num_snippets)
    s = ExtractionSettings(short_side=40, crop_size=32, fps=12.5)
    frames, native, duration = read_frames(str(videos / 'long.avi'), s)
    # 3 s at 12.5 fps: 38 frames (round(37.5)), ceil(38 / 16) = 3 snippets
    assert (len(frames), native, duration) == (38, 25.0, 3.0)
    assert frames.shape[1:] == (32, 32, 3)
    assert num_snippets(len(frames), s) == 3


def test_tool_reports_undecodable_videos_and_refuses_to_overwrite(
        videos, recognizers, tmp_path):
    out = str(tmp_path / 'f')
    proc = run_tool('tools/extract_features.py', str(videos), '--out', out,
                    '--recognizer', str(recognizers / 'r2d.py'), *SMALL,
                    check=False, timeout=300)
    assert proc.returncode == 1
    assert 'steps: [3, 1280] (40 frames, 1.60 s)' in proc.stdout
    assert '2 of 3 videos written' in proc.stdout
    assert proc.stderr.strip().splitlines()[-1] == (
        'error: 1 video(s) could not be decoded: broken')
    again = run_tool('tools/extract_features.py', str(videos), '--out', out,
                     '--recognizer', str(recognizers / 'r2d.py'), *SMALL,
                     check=False, timeout=300)
    assert again.returncode == 1
    assert 'holds an earlier extraction' in again.stderr
    flow = run_tool('tools/extract_features.py', str(videos), '--out',
                    str(tmp_path / 'g'), '--recognizer',
                    str(recognizers / 'r2d.py'), '--modality', 'flow',
                    check=False, timeout=300)
    assert flow.returncode == 1 and 'optical flow' in flow.stderr
