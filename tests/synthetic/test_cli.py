"""tools/make_synthetic_dataset.py: the command line of the synthetic
generator, which loads hrpro_plugin/synthetic by path (numpy only)."""
import filecmp
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np

from _helpers import REPO_ROOT, load_synthetic, tree_files

syn = load_synthetic()
TOOL = osp.join(REPO_ROOT, 'tools', 'make_synthetic_dataset.py')


def test_cli(tmp_path):
    out = str(tmp_path / 'cli')
    res = subprocess.run([
        sys.executable, TOOL, '--out', out, '--num-classes', '3',
        '--num-train', '8', '--num-test', '4', '--feat-dim', '8', '--seed', '2'
    ],
                         capture_output=True,
                         text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert '12/12 videos (100%)' in res.stdout
    assert osp.abspath(out) in res.stdout
    assert len(os.listdir(osp.join(out, 'features', 'train'))) == 8
    assert len(os.listdir(osp.join(out, 'features', 'test'))) == 4
    x = np.load(
        osp.join(out, 'features', 'test',
                 os.listdir(osp.join(out, 'features', 'test'))[0]))
    assert x.shape[1] == 8 and x.dtype == np.float32
    # the same call from Python gives the same bytes
    ref = str(tmp_path / 'ref')
    syn.generate_dataset(ref,
                         num_classes=3,
                         num_train=8,
                         num_test=4,
                         feat_dim=8,
                         seed=2,
                         log=None)
    files = tree_files(ref)
    assert files == tree_files(out)
    assert filecmp.cmpfiles(ref, out, files, shallow=False)[1] == []


def test_cli_does_not_import_torch_or_openmmlab(tmp_path):
    code = ('import runpy, sys; sys.argv = ["x", "--out", sys.argv[1], '
            '"--num-classes", "2", "--num-train", "2", "--num-test", "1", '
            '"--feat-dim", "4", "--quiet"]; '
            f'runpy.run_path({TOOL!r}, run_name="__main__"); '
            'bad = [m for m in ("torch", "mmengine", "mmaction") '
            'if m in sys.modules]; assert not bad, bad')
    res = subprocess.run([sys.executable, '-c', code,
                          str(tmp_path / 'q')],
                         capture_output=True,
                         text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ''


def _tiny_annotations(folder, segment='[1.0, 2.5]'):
    """A real-style gt_full.json (one train, one test video) and its splits
    beside it."""
    os.makedirs(folder, exist_ok=True)
    gt = osp.join(folder, 'gt_full.json')
    with open(gt, 'w') as f:
        f.write('{"database": {'
                '"v1": {"subset": "Validation", "duration": 8.0, "fps": 30, '
                '"annotations": [{"label": "Jump", "segment": '
                f'{segment}}}]}},'
                '"v2": {"subset": "Test", "duration": 6.0, "fps": 30, '
                '"annotations": [{"label": "Jump", "segment": [0.5, 3.0]}]}'
                '}}')
    for split, video in (('train', 'v1'), ('test', 'v2')):
        with open(osp.join(folder, f'split_{split}.txt'), 'w') as f:
            f.write(video + '\n')
    return gt


def test_cli_annotations_mode_reads_them_with_the_dataset_parser(tmp_path):
    """--annotations loads the dataset's parser package by path too: still
    no torch / OpenMMLab, and a file the dataset refuses is refused here
    with its one-line message."""
    gt = _tiny_annotations(str(tmp_path / 'src'))
    out = str(tmp_path / 'out')
    code = ('import runpy, sys; sys.argv = ["x", "--out", sys.argv[1], '
            '"--annotations", sys.argv[2], "--feat-dim", "4", "--quiet"]; '
            f'runpy.run_path({TOOL!r}, run_name="__main__"); '
            'bad = [m for m in ("torch", "mmengine", "mmaction") '
            'if m in sys.modules]; assert not bad, bad; '
            'assert "_hrpro_parsers.gt_database" in sys.modules')
    res = subprocess.run([sys.executable, '-c', code, out, gt],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert filecmp.cmp(gt, osp.join(out, 'gt_full.json'), shallow=False)
    assert np.load(osp.join(out, 'features', 'test', 'v2.npy')).shape == (
        10, 4)  # ceil(6 s * 25 / 16)
    marker = json.load(open(osp.join(out, syn.SYNTHETIC_MARKER)))
    assert marker['mode'] == 'annotations'

    bad = _tiny_annotations(str(tmp_path / 'bad'), segment='[2.5, 1.0]')
    res = subprocess.run([sys.executable, TOOL, '--out',
                          str(tmp_path / 'out_bad'), '--annotations', bad],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and 'Traceback' not in res.stderr
    assert res.stderr.strip() == (
        f"error: {bad}: video 'v1': annotation 0 (Jump): segment [2.5, 1.0] "
        'is reversed (end 1 s < start 2.5 s); expected [start_s, end_s] '
        'with start < end')
