"""Parsing and validation of gt_full.json, the point CSV, split files and
feature files (hrpro_plugin.datasets.parsers)."""
import json

import numpy as np
import pytest

from hrpro_plugin.datasets import DataError, MissingFileError, infer_feat_dim
from hrpro_plugin.datasets.parsers.features import check_feature_file
from hrpro_plugin.datasets.parsers.gt_database import (
    load_gt_database, parse_video_annotation)
from hrpro_plugin.datasets.parsers.point_csv import (classes_from_class_index,
                                                     frame_to_snippet,
                                                     load_point_csv)
from hrpro_plugin.datasets.parsers.splits import load_split


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


# ------------------------------------------------------------------ split
def test_split_reads_names_and_skips_blank_lines(tmp_path):
    p = write(tmp_path / 's.txt', 'a\n\n  b  \nc\n')
    assert load_split(p) == ['a', 'b', 'c']


def test_split_errors(tmp_path):
    with pytest.raises(MissingFileError, match=r'nope\.txt: split file not'):
        load_split(str(tmp_path / 'nope.txt'))
    # MissingFileError is also a FileNotFoundError and a ValueError
    with pytest.raises(FileNotFoundError):
        load_split(str(tmp_path / 'nope.txt'))
    p = write(tmp_path / 'empty.txt', '\n  \n')
    with pytest.raises(DataError, match=r'empty\.txt: split file is empty'):
        load_split(p)
    p = write(tmp_path / 'dup.txt', 'a\nb\na\n')
    with pytest.raises(DataError,
                       match=r"dup\.txt: line 3: video 'a' is listed twice "
                       r'\(first on line 1\)'):
        load_split(p)


# ------------------------------------------------------------------- JSON
def test_json_errors(tmp_path):
    with pytest.raises(DataError, match=r'gt\.json: annotation file is empty'):
        load_gt_database(write(tmp_path / 'gt.json', ''))
    with pytest.raises(DataError, match=r'bad\.json: malformed JSON at line 2'):
        load_gt_database(write(tmp_path / 'bad.json', '{"database":\n {,}'))
    with pytest.raises(DataError, match=r'nodb\.json: expected a JSON object '
                       r'with a "database" key'):
        load_gt_database(write(tmp_path / 'nodb.json', '{"version": 1}'))
    bad_ann = {'database': {'v1': {'annotations': [{'segment': [0, 1]}]}}}
    with pytest.raises(DataError, match=r"lab\.json: video 'v1': annotation 0 "
                       r'has no "label"'):
        load_gt_database(write(tmp_path / 'lab.json', json.dumps(bad_ann)))


def test_video_fps_duration_and_segments(tmp_path):
    db = {
        'a': {'duration': 10.0, 'fps': 30, 'annotations': [
            {'label': 'X', 'segment': [1.0, 2.5]}]},
        'b': {'duration': 4.0, 'num_frames': 60, 'annotations': []},
        'c': {'num_frames': 60, 'annotations': []},
        'e': {'fps': 25, 'annotations': []},
    }
    path = write(tmp_path / 'gt.json', json.dumps({'database': db}))
    database = load_gt_database(path)
    a = parse_video_annotation(database, 'a', path)
    assert a.fps == 30.0 and a.duration == 10.0 and a.labels == ['X']
    assert a.segments.dtype == np.float32
    np.testing.assert_allclose(a.segments, [[1.0, 2.5]])
    b = parse_video_annotation(database, 'b', path)
    assert b.fps == pytest.approx(15.0)  # 60 frames / 4 s
    assert b.segments.shape == (0, 2)
    with pytest.raises(DataError, match=r"gt\.json: video 'c': no \"fps\""):
        parse_video_annotation(database, 'c', path)
    e = parse_video_annotation(database, 'e', path)
    assert e.duration is None and e.fps == 25.0
    # the whole file is checked when loaded: one reversed segment refuses it
    db['d'] = {'duration': 5.0, 'fps': 25, 'annotations': [
        {'label': 'X', 'segment': [3.0, 2.0]}]}
    path = write(tmp_path / 'gt.json', json.dumps({'database': db}))
    with pytest.raises(DataError, match=r"gt\.json: video 'd': annotation 0 "
                       r'\(X\): segment \[3\.0, 2\.0\] is reversed'):
        load_gt_database(path)
    # and parse_video_annotation checks an entry it is given directly
    with pytest.raises(DataError, match=r"video 'd': annotation 0 \(X\): "
                       r'segment \[3\.0, 2\.0\] is reversed'):
        parse_video_annotation(db, 'd', path)


# -------------------------------------------------------------------- CSV
HEADER = 'class,class_index,start_frame,stop_frame,video_id,point\n'


def test_csv_parsing(tmp_path):
    p = write(tmp_path / 'p.csv',
              HEADER + 'Run,1,0,10,v1,5\nJump,0,3.5,9.5,v2,7.0\n')
    rows, has_index = load_point_csv(p)
    assert has_index
    assert [(r.row, r.video, r.label, r.class_index, r.frame)
            for r in rows] == [(1, 'v1', 'Run', 1, 5.0),
                               (2, 'v2', 'Jump', 0, 7.0)]
    assert classes_from_class_index(rows, p) == ['Jump', 'Run']
    p2 = write(tmp_path / 'q.csv', 'class,video_id,point\nRun,v1,5\n')
    rows, has_index = load_point_csv(p2)
    assert not has_index and rows[0].class_index is None


def test_csv_errors(tmp_path):
    with pytest.raises(MissingFileError, match=r'none\.csv: point label CSV '
                       'not found'):
        load_point_csv(str(tmp_path / 'none.csv'))
    with pytest.raises(DataError, match=r'e\.csv: point label CSV is empty'):
        load_point_csv(write(tmp_path / 'e.csv', ''))
    with pytest.raises(DataError, match=r'h\.csv: point label CSV has a header'
                       ' but no data rows'):
        load_point_csv(write(tmp_path / 'h.csv', HEADER))
    with pytest.raises(DataError, match=r'm\.csv: point label CSV lacks '
                       r'column\(s\) video_id, point'):
        load_point_csv(write(tmp_path / 'm.csv', 'class,frame\nRun,3\n'))
    with pytest.raises(DataError, match=r"n\.csv: row 2 \(video v2\): point "
                       r"'abc' is not a number"):
        load_point_csv(write(tmp_path / 'n.csv',
                             HEADER + 'Run,0,0,1,v1,3\nRun,0,0,1,v2,abc\n'))
    with pytest.raises(DataError, match=r'f\.csv: row 1: expected 6 fields, '
                       'got 5'):
        load_point_csv(write(tmp_path / 'f.csv', HEADER + 'Run,0,0,v1,3\n'))


def test_class_index_must_be_consistent(tmp_path):
    p = write(tmp_path / 'c.csv',
              HEADER + 'Run,0,0,1,v1,3\nRun,1,0,1,v1,4\n')
    rows, _ = load_point_csv(p)
    with pytest.raises(DataError, match=r"c\.csv: row 2: class 'Run' has "
                       r'class_index 1, but 0 on row 1'):
        classes_from_class_index(rows, p)
    p = write(tmp_path / 'd.csv',
              HEADER + 'Run,0,0,1,v1,3\nJump,0,0,1,v1,4\n')
    rows, _ = load_point_csv(p)
    with pytest.raises(DataError, match=r"d\.csv: row 2: class_index 0 is "
                       r"given to class 'Jump', but to 'Run' on row 1"):
        classes_from_class_index(rows, p)
    p = write(tmp_path / 'g.csv',
              HEADER + 'Run,0,0,1,v1,3\nJump,2,0,1,v1,4\n')
    rows, _ = load_point_csv(p)
    with pytest.raises(DataError, match=r'g\.csv: class_index values must be '
                       r'0\.\.K-1 without gaps.*missing \[1\]'):
        classes_from_class_index(rows, p)


# --------------------------------------------------------- point mapping
@pytest.mark.parametrize('frame,fps,expected', [
    (0, 30.0, 0),
    (45, 30.0, 2),  # 45 * 25 / 480 = 2.34
    (96, 30.0, 5),  # exactly 5.0
    (95, 30.0, 4),  # 4.95
    (170, 30.0, 8),  # 8.85
    (300, 30.0, 15),  # 15.6
    (310, 30.0, 15),  # 16.1 -> clamped to T - 1 = 15
    (48, 15.0, 5),  # GTEA-like: 48 * 25 / 240 = 5.0
])
def test_frame_to_snippet(frame, fps, expected):
    assert frame_to_snippet(frame, fps, 25.0, 16, 16) == expected


def test_frame_to_snippet_other_snippet_size():
    # 8-frame snippets at 30 fps features, 60 fps video: int(100 * 30 / 480)
    assert frame_to_snippet(100, 60.0, 30.0, 8, 100) == 6


# --------------------------------------------------------------- features
def test_check_feature_file(tmp_path):
    good = tmp_path / 'good.npy'
    np.save(good, np.zeros((7, 3), np.float16))
    assert check_feature_file(str(good)) == (7, 3)

    with pytest.raises(MissingFileError,
                       match=r'miss\.npy: feature file \(video v\) not found;'
                       ' expected layout <feature_dir>/<video>.npy'):
        check_feature_file(str(tmp_path / 'miss.npy'), 'v')

    raw = good.read_bytes()
    trunc = tmp_path / 'trunc.npy'
    trunc.write_bytes(raw[:len(raw) - 10])
    with pytest.raises(DataError, match=r'trunc\.npy: unreadable or truncated'):
        check_feature_file(str(trunc))
    junk = tmp_path / 'junk.npy'
    junk.write_bytes(b'not an npy file at all' * 4)
    with pytest.raises(DataError, match=r'junk\.npy: unreadable or truncated'):
        check_feature_file(str(junk))

    ints = tmp_path / 'ints.npy'
    np.save(ints, np.zeros((7, 3), np.int64))
    with pytest.raises(DataError, match=r'ints\.npy: feature array must have '
                       'a float dtype, got int64'):
        check_feature_file(str(ints))
    flat = tmp_path / 'flat.npy'
    np.save(flat, np.zeros(7, np.float32))
    with pytest.raises(DataError, match=r'flat\.npy: feature array must be '
                       r'2-D \[T, D\], got shape \(7,\)'):
        check_feature_file(str(flat))


def test_infer_feat_dim(tmp_path):
    single = tmp_path / 'single'
    single.mkdir()
    np.save(single / 'b.npy', np.zeros((4, 5), np.float32))
    np.save(single / 'a.npy', np.zeros((4, 6), np.float32))
    assert infer_feat_dim(str(single)) == 6  # first by name: a.npy
    split = tmp_path / 'split'
    (split / 'rgb').mkdir(parents=True)
    (split / 'flow').mkdir()
    np.save(split / 'rgb' / 'v.npy', np.zeros((4, 3), np.float32))
    np.save(split / 'flow' / 'v.npy', np.zeros((4, 2), np.float32))
    assert infer_feat_dim(str(split)) == 5
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(MissingFileError, match=r'empty: no \.npy feature'):
        infer_feat_dim(str(empty))
    with pytest.raises(MissingFileError, match=r'absent: feature folder not '
                       'found'):
        infer_feat_dim(str(tmp_path / 'absent'))
