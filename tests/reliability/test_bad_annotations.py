"""Bad annotation files, outputs over inputs, unreadable checkpoints and
misleading messages: every tool that reads an input refuses the same bad
file with the same one-line message naming the file, the video or row and
what was expected.

Readers of each input:
- ``gt_full.json``: the dataset (PointTALDataset), tools/eval_map.py,
  tools/make_point_labels.py;
- split files: the dataset, tools/eval_map.py;
- the point CSV: the dataset;
- checkpoints: tools/infer.py, tools/test.py (fill_from_checkpoint),
  tools/visualize.py (init_localizer);
- feature files: the dataset (header check), LoadSnippetFeatures,
  inference.
"""
import copy
import csv
import json
import math
import os
import os.path as osp
import re

import numpy as np
import pytest
import torch

from _helpers import REPO_ROOT, load_script, run_tool
from hrpro_plugin.datasets import DataError, PointTALDataset
from hrpro_plugin.datasets.parsers.features import (check_feature_file,
                                                    common_feature_width,
                                                    infer_feat_dim)
from hrpro_plugin.datasets.parsers.gt_database import (
    SEGMENT_END_TOLERANCE_S, load_gt_database)
from hrpro_plugin.datasets.parsers.point_csv import load_point_csv
from hrpro_plugin.evaluation.functional.results_io import (
    config_input_files, refuse_overwriting_inputs)

eval_map = load_script('tools/eval_map.py', '_tool_eval_map_bad')
mpl = load_script('tools/make_point_labels.py', '_tool_mpl_bad')
infer_tool = load_script('tools/infer.py', '_tool_infer_bad')

D = 16
CONFIG = osp.join(REPO_ROOT, 'configs', 'hrpro_synthetic.py')
# classes by class_index: Jump = 0, Run = 1
BASE_DB = {
    'v1': dict(subset='Validation', duration=12.8, fps=25.0, annotations=[
        dict(label='Run', segment=[1.0, 2.0]),
        dict(label='Jump', segment=[5.0, 6.5])]),
    'v2': dict(subset='Validation', duration=6.4, fps=25.0, annotations=[
        dict(label='Jump', segment=[0.5, 1.5])]),
    't1': dict(subset='Test', duration=6.4, fps=25.0, annotations=[
        dict(label='Run', segment=[2.0, 3.0])]),
}
POINTS = [('Run', 1, 'v1', 37), ('Jump', 0, 'v1', 140), ('Jump', 0, 'v2', 25)]
HEADER = ['class', 'class_index', 'start_frame', 'stop_frame', 'video_id',
          'point']


def snippets(video):
    return math.ceil(BASE_DB[video]['duration'] * 25 / 16)  # v1 20, others 10


def write_gt(root, db):
    (root / 'gt_full.json').write_text(json.dumps(dict(database=db)))


def write_csv(root, rows):
    with open(root / 'point_labels' / 'point_gaussian.csv', 'w',
              newline='') as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for c, i, v, p in rows:
            w.writerow([c, i, p - 5, p + 5, v, p])


def make_root(root):
    """gt_full.json, splits, point CSV, 16-d features and a results file
    that scores mAP 1 on split_test.txt."""
    root.mkdir(parents=True, exist_ok=True)
    (root / 'point_labels').mkdir()
    write_gt(root, BASE_DB)
    write_csv(root, POINTS)
    (root / 'split_train.txt').write_text('v1\nv2\n')
    (root / 'split_test.txt').write_text('t1\n')
    rng = np.random.default_rng(0)
    for split, videos in (('train', ('v1', 'v2')), ('test', ('t1', ))):
        (root / 'features' / split).mkdir(parents=True)
        for v in videos:
            np.save(root / 'features' / split / f'{v}.npy',
                    rng.standard_normal((snippets(v), D)).astype(np.float32))
    (root / 'results.json').write_text(json.dumps(dict(results={'t1': [
        dict(label='Run', segment=[2.0, 3.0], score=0.9)]})))
    return root


@pytest.fixture
def root(tmp_path):
    return make_root(tmp_path / 'data')


# ------------------------------------------------------------ the readers
def dataset(root, split='train', **kwargs):
    kwargs.setdefault('require_points', split == 'train')
    return PointTALDataset(
        data_root=str(root), split_file=f'split_{split}.txt',
        feature_dir=f'features/{split}', serialize_data=False, **kwargs)


def run_eval_map(root, split='split_test.txt'):
    eval_map.main(['--gt', str(root / 'gt_full.json'), '--pred',
                   str(root / 'results.json'), '--split', str(root / split),
                   '--tiou', '0.5'])


def error_of(reader, root):
    """The message a reader stops with (DataError, or the tool's one-line
    exit for make_point_labels)."""
    if reader == 'make_point_labels':
        with pytest.raises(SystemExit) as exc:
            mpl.main(['--gt', str(root / 'gt_full.json'), '--out',
                      str(root / 'new_points.csv')])
        text = str(exc.value.code)
        assert text.startswith('error: ') and '\n' not in text
        return text[len('error: '):]
    with pytest.raises(DataError) as exc:
        if reader == 'dataset':
            dataset(root)
        else:
            run_eval_map(root)
    return str(exc.value)


GT_READERS = ['dataset', 'eval_map', 'make_point_labels']


def mutate(db, video, **changes):
    db = copy.deepcopy(db)
    db[video].update(changes)
    return db


def with_segment(video, i, seg):
    db = copy.deepcopy(BASE_DB)
    db[video]['annotations'][i]['segment'] = seg
    return db


def renamed(video, old, new, ann=None):
    db = copy.deepcopy(BASE_DB)
    d = db[video] if ann is None else db[video]['annotations'][ann]
    d[new] = d.pop(old)
    return db


def without(video, key, ann=None):
    db = copy.deepcopy(BASE_DB)
    d = db[video] if ann is None else db[video]['annotations'][ann]
    del d[key]
    return db


# (database, expected message after "<path>/gt_full.json: ")
GT_CASES = {
    'segment past the end': (
        with_segment('v1', 1, [8.0, 14.5]),
        "video 'v1': annotation 1 (Jump): segment [8.0, 14.5] runs past the "
        "video's end: 14.5 s > \"duration\" 12.8 s (tolerance 1 s); fix the "
        'segment or the duration'),
    'reversed segment': (
        with_segment('v2', 0, [1.5, 0.5]),
        "video 'v2': annotation 0 (Jump): segment [1.5, 0.5] is reversed "
        '(end 0.5 s < start 1.5 s); expected [start_s, end_s] with start < '
        'end'),
    'zero-length segment': (
        with_segment('t1', 0, [2.0, 2.0]),
        "video 't1': annotation 0 (Run): segment [2.0, 2.0] has zero length "
        '(start = end = 2 s); expected start < end'),
    'negative start': (
        with_segment('v2', 0, [-1.0, 1.0]),
        "video 'v2': annotation 0 (Jump): segment [-1.0, 1.0] starts before "
        '0 s; expected 0 <= start < end'),
    'segment of strings': (
        with_segment('v1', 0, ['1.0', '2.0']),
        "video 'v1': annotation 0 (Run): \"segment\" ['1.0', '2.0'] holds "
        'strings; expected [start_s, end_s], two numbers (write 1.5, not '
        '"1.5")'),
    'non-numeric segment': (
        with_segment('v1', 0, [None, 2.0]),
        "video 'v1': annotation 0 (Run): \"segment\" [None, 2.0] is not "
        'numeric; expected [start_s, end_s], two numbers'),
    'one-number segment': (
        with_segment('v1', 0, [1.0]),
        "video 'v1': annotation 0 (Run): \"segment\" must be a list of two "
        'numbers, got [1.0]'),
    'misspelt annotations key': (
        renamed('v2', 'annotations', 'annotation'),
        "video 'v2': no \"annotations\" key (the entry has 'subset', "
        "'duration', 'fps', 'annotation'; is 'annotation' misspelt?); every "
        'video needs "annotations": [...], [] for a video without actions'),
    'missing annotations key': (
        without('t1', 'annotations'),
        "video 't1': no \"annotations\" key (the entry has 'subset', "
        "'duration', 'fps'); every video needs \"annotations\""),
    'missing label key': (
        without('v1', 'label', ann=0),
        "video 'v1': annotation 0 has no \"label\" key (it has 'segment'); "
        'expected "label": a class name'),
    'misspelt label key': (
        renamed('v1', 'label', 'lable', ann=1),
        "video 'v1': annotation 1 has no \"label\" key (it has 'segment', "
        "'lable'; is 'lable' misspelt?); expected \"label\": a class name"),
    'label not a string': (
        mutate(BASE_DB, 'v2', annotations=[dict(label=3, segment=[0, 1])]),
        "video 'v2': annotation 0: \"label\" must be a class name (a "
        'non-empty string), got 3'),
    'duration as a string': (
        mutate(BASE_DB, 'v2', duration='6.4'),
        "video 'v2': \"duration\" must be a number, got '6.4'"),
}


@pytest.mark.parametrize('reader', GT_READERS)
@pytest.mark.parametrize('case', list(GT_CASES))
def test_every_gt_reader_refuses_the_same_bad_file(root, reader, case):
    db, expected = GT_CASES[case]
    write_gt(root, db)
    msg = error_of(reader, root)
    assert msg == f'{root / "gt_full.json"}: {expected}' or msg.startswith(
        f'{root / "gt_full.json"}: {expected}'), msg


@pytest.mark.parametrize('reader', GT_READERS)
def test_segment_within_the_stated_tolerance_is_accepted(root, reader,
                                                         capsys):
    assert SEGMENT_END_TOLERANCE_S == 1.0
    write_gt(root, with_segment('v1', 1, [8.0, 12.8 + 0.9]))
    if reader == 'dataset':
        assert len(dataset(root)) == 2
    elif reader == 'eval_map':
        run_eval_map(root)
        assert json.loads(capsys.readouterr().out.splitlines()[-1])[
            'map'] == [1.0]
    else:
        assert len(mpl.main(['--gt', str(root / 'gt_full.json'), '--out',
                             str(root / 'p.csv')])) == 3


def test_key_given_twice_in_the_json_is_refused(root):
    text = json.dumps(dict(database=BASE_DB))
    # t1 a second time: json.load would keep the second one silently
    text = text[:-2] + ', "t1": {"annotations": []}}}'
    (root / 'gt_full.json').write_text(text)
    for reader in GT_READERS:
        assert error_of(reader, root) == (
            f"{root / 'gt_full.json'}: key 't1' appears twice in one JSON "
            'object (the second would silently replace the first); give '
            'each video and each field once')


def test_known_thumos14_videos_past_their_end_are_kept(shared_data,
                                                       tmp_path):
    """The released THUMOS14 file has segments past the given duration in
    five videos (annotation errors of the public file); they are accepted so
    that the published evaluation is reproduced, any other is not."""
    path = osp.join(shared_data, 'THUMOS14', 'gt_full.json')
    db = load_gt_database(path)
    assert db['video_validation_0000364']['duration'] == 112.64
    db['video_validation_0000364']['duration'] = 112.0  # not the known one
    tmp = str(tmp_path / 'gt_edited.json')
    with open(tmp, 'w') as f:
        json.dump(dict(database=db), f)
    with pytest.raises(DataError, match=re.escape(
            f"{tmp}: video 'video_validation_0000364': annotation ") +
            r"\d+ \(\w+\): segment .* runs past the video's end"):
        load_gt_database(tmp)


# ------------------------------------------------------------- split files
@pytest.mark.parametrize('reader', ['dataset', 'eval_map'])
def test_duplicate_split_line(root, reader):
    (root / 'split_test.txt').write_text('t1\nt1\n')
    with pytest.raises(DataError) as exc:
        if reader == 'dataset':
            dataset(root, 'test')
        else:
            run_eval_map(root)
    assert str(exc.value) == (
        f"{root / 'split_test.txt'}: line 2: video 't1' is listed twice "
        '(first on line 1); a split file lists each video once')


@pytest.mark.parametrize('reader', ['dataset', 'eval_map'])
def test_split_file_not_utf8(root, reader):
    (root / 'split_test.txt').write_bytes(b't1\n\xff\n')
    with pytest.raises(DataError) as exc:
        if reader == 'dataset':
            dataset(root, 'test')
        else:
            run_eval_map(root)
    assert str(exc.value) == (
        f"{root / 'split_test.txt'}: split file is not UTF-8 text: byte 0xff "
        'at byte offset 3 (line 2) is not valid UTF-8; save the file as UTF-8')


@pytest.mark.parametrize('reader', ['dataset', 'eval_map'])
def test_split_file_with_bom_is_read(root, reader, capsys):
    (root / 'split_test.txt').write_bytes(b'\xef\xbb\xbft1\r\n')
    if reader == 'dataset':
        ds = dataset(root, 'test')
        assert [ds.get_data_info(i)['video_name'] for i in range(len(ds))] \
            == ['t1']
    else:
        run_eval_map(root)
        assert json.loads(capsys.readouterr().out.splitlines()[-1])[
            'map'] == [1.0]


# --------------------------------------------------------------- JSON bytes
@pytest.mark.parametrize('reader', GT_READERS)
def test_gt_json_not_utf8(root, reader):
    text = json.dumps(dict(version='caf#', database=BASE_DB))
    offset = text.index('#')
    (root / 'gt_full.json').write_bytes(text.replace('#', '\xe9').encode(
        'latin-1'))
    assert error_of(reader, root) == (
        f"{root / 'gt_full.json'}: annotation file is not UTF-8 text: byte "
        f'0xe9 at byte offset {offset} (line 1) is not valid UTF-8; save the '
        'file as UTF-8')


@pytest.mark.parametrize('reader', GT_READERS)
def test_gt_json_with_bom_is_read(root, reader, capsys):
    (root / 'gt_full.json').write_bytes(
        b'\xef\xbb\xbf' + json.dumps(dict(database=BASE_DB)).encode())
    if reader == 'dataset':
        assert dataset(root).metainfo['classes'] == ('Jump', 'Run')
    elif reader == 'eval_map':
        run_eval_map(root)
        assert json.loads(capsys.readouterr().out.splitlines()[-1])[
            'map'] == [1.0]
    else:
        rows = mpl.main(['--gt', str(root / 'gt_full.json'), '--out',
                         str(root / 'p.csv')])
        assert [r['video_id'] for r in rows] == ['v1', 'v1', 'v2']


def test_gt_json_in_utf16_is_named(root):
    (root / 'gt_full.json').write_bytes(
        json.dumps(dict(database=BASE_DB)).encode('utf-16'))
    with pytest.raises(DataError, match=re.escape(
            f"{root / 'gt_full.json'}: annotation file is not UTF-8 text: "
            'byte 0xff at byte offset 0 (line 1) is not valid UTF-8 (it '
            'starts with a UTF-16 byte-order mark)')):
        dataset(root)


# ---------------------------------------------------------------- point CSV
def test_point_of_a_video_not_in_the_annotations(root):
    write_csv(root, POINTS + [('Run', 1, 'ghost', 10)])
    expected = (
        f"{root / 'point_labels' / 'point_gaussian.csv'}: row 4: point of "
        f"video 'ghost', which is not in {root / 'gt_full.json'} (1 row(s) of "
        '1 such video(s): ghost); every point needs its video in the '
        'annotations')
    db = load_gt_database(str(root / 'gt_full.json'))
    with pytest.raises(DataError) as exc:
        load_point_csv(str(root / 'point_labels' / 'point_gaussian.csv'), db,
                       str(root / 'gt_full.json'))
    assert str(exc.value) == expected
    # the dataset: an error, not a dropped point (train and test sets)
    for split in ('train', 'test'):
        with pytest.raises(DataError) as exc:
            dataset(root, split)
        assert str(exc.value) == expected


def test_point_csv_not_utf8(root):
    path = root / 'point_labels' / 'point_gaussian.csv'
    raw = path.read_bytes()
    offset = raw.index(b'Jump,0,135')  # the second data row, line 3
    path.write_bytes(raw[:offset] + b'Jump\xe9' + raw[offset + 4:])
    with pytest.raises(DataError) as exc:
        dataset(root)
    assert str(exc.value) == (
        f'{path}: point label CSV is not UTF-8 text: byte 0xe9 at byte '
        f'offset {offset + 4} (line 3) is not valid UTF-8; save the file as '
        'UTF-8')


def test_point_csv_with_bom_is_read(root):
    """Once "lacks column(s) class" while printing a header that has it."""
    path = root / 'point_labels' / 'point_gaussian.csv'
    path.write_bytes(b'\xef\xbb\xbf' + path.read_bytes())
    rows, has_index = load_point_csv(str(path))
    assert has_index and [r.label for r in rows] == ['Run', 'Jump', 'Jump']
    ds = dataset(root)
    assert ds.metainfo['classes'] == ('Jump', 'Run')
    assert sum(len(ds.get_data_info(i)['point_labels'])
               for i in range(len(ds))) == 3


# ------------------------------------------------------ outputs over inputs
def test_make_point_labels_refuses_to_replace_its_inputs(root, tmp_path):
    gt = root / 'gt_full.json'
    before = gt.read_bytes()
    for target in (gt, root / 'split_train.txt'):
        with pytest.raises(SystemExit) as exc:
            mpl.main(['--gt', str(gt), '--out', str(target)])
        assert str(exc.value.code) == (
            f'error: --out {target} is an input of this run ({target}); '
            'writing there would replace it: choose another file')
    link = tmp_path / 'link.json'
    link.symlink_to(gt)
    with pytest.raises(SystemExit, match=re.escape(
            f'--out {link} is an input of this run ({gt})')):
        mpl.main(['--gt', str(gt), '--out', str(link)])
    assert gt.read_bytes() == before
    assert (root / 'split_train.txt').read_text() == 'v1\nv2\n'


def test_refuse_overwriting_inputs(tmp_path):
    a = tmp_path / 'a.json'
    a.write_text('{}')
    hard = tmp_path / 'hard.json'
    os.link(a, hard)
    with pytest.raises(DataError, match=re.escape(
            f'--out {hard} is an input of this run ({a}); writing there '
            'would replace it: choose another file')):
        refuse_overwriting_inputs(str(hard), [str(a)])
    with pytest.raises(DataError, match=re.escape(
            f'--metrics-out {tmp_path} is a folder; expected a file path')):
        refuse_overwriting_inputs(str(tmp_path), [], flag='--metrics-out')
    # relative and absolute spellings of one file are the same file
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with pytest.raises(DataError, match='is an input of this run'):
            refuse_overwriting_inputs('./sub/../a.json', [str(a)])
    finally:
        os.chdir(cwd)
    # another file, a missing input, None: fine
    refuse_overwriting_inputs(str(tmp_path / 'new.json'),
                              [str(a), None, str(tmp_path / 'gone.txt')])
    refuse_overwriting_inputs(None, [str(a)])


def test_config_input_files_lists_the_test_set_files(root):
    from mmengine.config import Config

    from hrpro_plugin.apis import apply_data_root
    cfg = apply_data_root(Config.fromfile(CONFIG), str(root))
    cfg.test_evaluator['ambiguous_file'] = str(root / 'Ambiguous_test.txt')
    files = config_input_files(cfg)
    for rel in ('gt_full.json', 'split_train.txt', 'split_test.txt',
                'point_labels/point_gaussian.csv', 'Ambiguous_test.txt'):
        assert str(root / rel) in files, (rel, files)
    with pytest.raises(DataError, match='is an input of this run'):
        refuse_overwriting_inputs(str(root / 'gt_full.json'), files)


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """An untrained configs/hrpro_synthetic.py model for 16-d features and
    the classes Jump, Run, saved as tools/train.py does (meta + state_dict):
    enough for inference."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from mmaction.registry import MODELS
    cfg = Config.fromfile(CONFIG).model
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(dict(cfg, feat_dim=D, num_classes=2))
    path = tmp_path_factory.mktemp('ckpt') / 'run_a' / 'stage2.pth'
    path.parent.mkdir()
    torch.save(dict(meta=dict(dataset_meta=dict(classes=['Jump', 'Run'])),
                    state_dict=model.state_dict()), path)
    return path


def test_infer_default_out_is_under_work_dirs(root, checkpoint, tmp_path,
                                              monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'results.json').write_text('mine')
    results = infer_tool.main([CONFIG, str(checkpoint), '--features',
                               str(root / 'features' / 'test')])
    assert (tmp_path / 'results.json').read_text() == 'mine'  # untouched
    out = tmp_path / 'work_dirs' / 'infer' / 'run_a_stage2' / 'results.json'
    data = json.loads(out.read_text())
    assert list(data['results']) == ['t1'] and len(results) == 1
    assert f'1 video(s); results written to {out}' in capsys.readouterr().out


def test_infer_refuses_to_replace_its_inputs(root, checkpoint):
    before = checkpoint.read_bytes()
    feature = root / 'features' / 'test' / 't1.npy'
    for target in (checkpoint, feature):
        with pytest.raises(SystemExit) as exc:
            infer_tool.main([CONFIG, str(checkpoint), '--features',
                             str(feature.parent), '--out', str(target)])
        assert str(exc.value.code) == (
            f'error: --out {target} is an input of this run ({target}); '
            'writing there would replace it: choose another file')
    assert checkpoint.read_bytes() == before
    assert np.load(feature).shape == (10, D)


def test_test_tool_refuses_outputs_over_its_inputs(root, checkpoint,
                                                   tmp_path):
    """tools/test.py --out / --metrics-out / --dump: never over the data."""
    from reliability._runs import run_test_py_in_process
    gt = root / 'gt_full.json'
    before = gt.read_bytes()
    for flag, target in (('--out', gt),
                         ('--metrics-out', root / 'split_test.txt'),
                         ('--out', checkpoint)):
        with pytest.raises(DataError) as exc:
            run_test_py_in_process(CONFIG, checkpoint, '--data-root', root,
                                   '--work-dir', tmp_path / 'work', flag,
                                   target)
        assert str(exc.value) == (
            f'{flag} {target} is an input of this run ({target}); writing '
            'there would replace it: choose another file')
    assert gt.read_bytes() == before


# ----------------------------------------------------- unreadable checkpoint
def bad_checkpoints(tmp_path, checkpoint):
    """name -> (path, what the message says it is)"""
    rng = np.random.default_rng(0)
    out = {}
    p = tmp_path / 'random.pth'
    p.write_bytes(b'\x80\x02' + rng.integers(0, 256, 3000,
                                             dtype=np.uint8).tobytes())
    out['random bytes'] = (p, 'torch.load failed with UnpicklingError: ')
    p = tmp_path / 'truncated.pth'
    raw = checkpoint.read_bytes()
    p.write_bytes(raw[:len(raw) // 2])
    out['truncated zip'] = (p, 'a truncated zip archive (an interrupted '
                               'copy, download or save?)')
    p = tmp_path / 'notes.pth'
    p.write_text('stage2 weights are on the server\n')
    out['text file'] = (p, 'a text file')
    p = tmp_path / 'empty.pth'
    p.write_bytes(b'')
    out['empty file'] = (p, 'the file is empty')
    return out


EXPECTED = ('; expected a .pth file written by tools/train.py (torch.save of '
            'a dict with "meta" and "state_dict")')


@pytest.mark.parametrize('kind', ['random bytes', 'truncated zip',
                                  'text file', 'empty file'])
def test_unreadable_checkpoint_one_message_for_every_tool(
        kind, tmp_path, checkpoint, root):
    from hrpro_plugin.apis import init_localizer
    from reliability._runs import run_test_py_in_process
    path, what = bad_checkpoints(tmp_path, checkpoint)[kind]
    start = f'{path}: not a readable checkpoint: {what}'
    messages = []
    # tools/test.py (fill_from_checkpoint, before any runner is built)
    with pytest.raises(DataError) as exc:
        run_test_py_in_process(CONFIG, path, '--data-root', root,
                               '--work-dir', tmp_path / 'work')
    messages.append(str(exc.value))
    # tools/infer.py and tools/visualize.py (init_localizer)
    with pytest.raises(DataError) as exc:
        init_localizer(CONFIG, str(path))
    messages.append(str(exc.value))
    with pytest.raises(SystemExit) as exc:
        infer_tool.main([CONFIG, str(path), '--features',
                         str(root / 'features' / 'test'), '--out',
                         str(tmp_path / 'r.json')])
    messages.append(str(exc.value.code)[len('error: '):])
    for msg in messages:
        assert msg.startswith(start) and msg.endswith(EXPECTED), msg
        assert '\n' not in msg
    assert len(set(messages)) == 1  # one loader, one message


def test_checkpoint_without_state_dict(tmp_path):
    from hrpro_plugin.apis import init_localizer
    path = tmp_path / 'weights.pth'
    torch.save({'w': torch.zeros(2)}, path)
    with pytest.raises(DataError) as exc:
        init_localizer(CONFIG, str(path))
    assert str(exc.value) == (f'{path}: not an MMEngine checkpoint (no '
                              f'"state_dict"){EXPECTED}')


def test_tools_print_one_line_not_a_traceback(root, tmp_path, checkpoint):
    """As tools/train.py and tools/test.py: exit 1 with one line; the
    traceback only with HRPRO_DEBUG=1."""
    write_gt(root, with_segment('v2', 0, [1.5, 0.5]))
    gt = root / 'gt_full.json'
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env.pop('HRPRO_DEBUG', None)
    cases = [
        (['tools/eval_map.py', '--gt', gt, '--pred', root / 'results.json',
          '--split', root / 'split_test.txt'],
         f"error: {gt}: video 'v2': annotation 0 (Jump): segment [1.5, 0.5] "
         'is reversed'),
        (['tools/make_point_labels.py', '--gt', gt, '--out',
          tmp_path / 'p.csv'],
         f"error: {gt}: video 'v2': annotation 0 (Jump): segment [1.5, 0.5] "
         'is reversed'),
        (['tools/infer.py', CONFIG, tmp_path / 'missing.pth', '--features',
          root / 'features' / 'test', '--out', tmp_path / 'r.json'],
         f'error: {tmp_path / "missing.pth"}: checkpoint not found'),
    ]
    for args, start in cases:
        proc = run_tool(*args, check=False, env=env, timeout=300)
        assert proc.returncode == 1, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert lines[-1].startswith(start), proc.stderr
        assert 'Traceback' not in proc.stderr, proc.stderr
    proc = run_tool(*cases[0][0], check=False, timeout=300,
                    env=dict(env, HRPRO_DEBUG='1'))
    assert proc.returncode == 1 and 'Traceback' in proc.stderr
    assert 'hrpro_plugin.datasets.parsers.errors.DataError' in proc.stderr


def test_visualize_bad_checkpoint_one_line(root, tmp_path, checkpoint):
    viz = load_script('tools/visualize.py', '_tool_visualize_bad')
    path, what = bad_checkpoints(tmp_path, checkpoint)['truncated zip']
    with pytest.raises(SystemExit) as exc:
        viz.main([CONFIG, str(path), '--data-root', str(root), '--videos',
                  't1', '--out-dir', str(tmp_path / 'png')])
    assert str(exc.value.code) == (
        f'error: {path}: not a readable checkpoint: {what}{EXPECTED}')


# ------------------------------------------------- a transposed feature file
def transpose_first_training_file(root):
    """v1 (20 snippets) saved as [D, T] = (16, 20): its width reads 20."""
    path = root / 'features' / 'train' / 'v1.npy'
    np.save(path, np.load(path).T.copy())
    return path


HINT = ('; it looks transposed: shape (16, 20) is [D, T] with D = 16, '
        'expected [T, D] = (20, 16) (save array.T)')


def test_transposed_first_file_is_blamed_not_its_neighbour(root):
    path = transpose_first_training_file(root)
    good = root / 'features' / 'train' / 'v2.npy'
    # the width given to the datasets by tools/train.py (fill_model_dims)
    assert infer_feat_dim(str(root / 'features' / 'train')) == D
    with pytest.raises(DataError) as exc:
        dataset(root, feat_dim=D)
    assert str(exc.value) == (
        f'{path}: wrong feature dimension for video v1: got 20, expected '
        f'feat_dim=16 from the config{HINT}')
    # no width given: the one most files have, the odd file named
    with pytest.raises(DataError) as exc:
        dataset(root)
    assert str(exc.value) == (
        f'{path}: wrong feature dimension for video v1: got 20, expected '
        f'16, as in {good} (1 of 2 videos have width 16){HINT}')


def test_common_feature_width_names_the_odd_file():
    items = [('a', ['a.npy'], [(16, 40)]), ('b', ['b.npy'], [(30, 16)]),
             ('c', ['c.npy'], [(25, 16)])]
    with pytest.raises(DataError) as exc:
        common_feature_width(items)
    assert str(exc.value) == (
        'a.npy: wrong feature dimension for video a: got 40, expected 16, as '
        'in b.npy (2 of 3 videos have width 16); it looks transposed: shape '
        '(16, 40) is [D, T] with D = 16, expected [T, D] = (40, 16) (save '
        'array.T)')
    # the last file odd, not transposed: named, no hint
    items = [('a', ['a.npy'], [(40, 16)]), ('b', ['b.npy'], [(30, 16)]),
             ('c', ['c.npy'], [(25, 8)])]
    with pytest.raises(DataError) as exc:
        common_feature_width(items)
    assert str(exc.value) == (
        'c.npy: wrong feature dimension for video c: got 8, expected 16, as '
        'in a.npy (2 of 3 videos have width 16)')
    assert common_feature_width(items[:2]) == 16
    # rgb + flow widths add up
    assert common_feature_width(
        [('a', ['r/a.npy', 'f/a.npy'], [(9, 8), (9, 8)])], feat_dim=16) == 16


def test_loading_transform_and_inference_say_transposed(root, checkpoint):
    from hrpro_plugin.apis import inference_localizer, init_localizer
    from hrpro_plugin.datasets.transforms import LoadSnippetFeatures
    path = transpose_first_training_file(root)
    assert check_feature_file(str(path), 'v1') == (16, 20)
    with pytest.raises(DataError) as exc:
        LoadSnippetFeatures(cache=False).transform(dict(
            feature_paths=[str(path)], feat_dim=D, video_name='v1'))
    assert str(exc.value) == (f'{path}: video v1: wrong feature dimension: '
                              f'got 20, expected 16{HINT}')
    model = init_localizer(CONFIG, str(checkpoint))
    with pytest.raises(DataError) as exc:
        inference_localizer(model, str(path))
    assert str(exc.value) == (f'{path}: features are 20-d but the checkpoint '
                              f'was trained on 16-d features{HINT}')
