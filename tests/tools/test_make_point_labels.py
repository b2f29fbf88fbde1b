"""tools/make_point_labels.py: one point per instance, seeded, Table A's
three distributions."""
import csv
import json
import os.path as osp

import numpy as np
import pytest

from _helpers import load_script

mpl = load_script('tools/make_point_labels.py', '_tool_make_point_labels')


def read_csv(path):
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == mpl.COLUMNS
        return list(reader)


def rel_positions(rows):
    """(point - start) / (stop - start) of instances longer than 10 frames."""
    out = []
    for r in rows:
        s, e, p = int(r['start_frame']), int(r['stop_frame']), int(r['point'])
        assert s <= p <= e, r  # every point inside its instance
        if e - s > 10:
            out.append((p - s) / (e - s))
    return np.asarray(out)


@pytest.fixture
def tiny_gt(tmp_path):
    db = {
        'vid_b': dict(subset='training', duration=20.0, fps=10.0,
                      annotations=[dict(label='run', segment=[1.0, 9.0]),
                                   dict(label='jump', segment=[2.0, 2.5]),
                                   dict(label='run', segment=[12.0, 19.5])]),
        'vid_a': dict(subset='training', duration=10.0, num_frames=250,
                      annotations=[dict(label='jump', segment=[0.5, 3.3])]),
        'vid_t': dict(subset='validation', duration=10.0, fps=30.0,
                      annotations=[dict(label='run', segment=[1.0, 2.0])]),
        'vid_empty': dict(subset='training', duration=5.0, fps=30.0,
                          annotations=[]),
    }
    path = tmp_path / 'gt_full.json'
    path.write_text(json.dumps(dict(version='t', database=db)))
    return str(path)


def test_tiny_file_frames_subsets_and_class_index(tiny_gt, tmp_path):
    out = tmp_path / 'p.csv'
    mpl.main(['--gt', tiny_gt, '--out', str(out), '--distribution',
              'center', '--seed', '3'])
    rows = read_csv(out)
    # training subset only; sorted by video then point; no class_index in
    # the file -> sorted class order (jump=0, run=1)
    assert [(r['video_id'], r['class'], r['class_index'], r['start_frame'],
             r['stop_frame'], r['point']) for r in rows] == [
        ('vid_a', 'jump', '0', '13', '83', '48'),   # fps = 250 / 10 = 25
        ('vid_b', 'jump', '0', '20', '25', '22'),   # floor(45 / 2)
        ('vid_b', 'run', '1', '10', '90', '50'),
        ('vid_b', 'run', '1', '120', '195', '157'),
    ]
    mpl.main(['--gt', tiny_gt, '--out', str(out), '--subset', 'validation'])
    assert [r['video_id'] for r in read_csv(out)] == ['vid_t']
    mpl.main(['--gt', tiny_gt, '--out', str(out), '--subset', 'all'])
    assert len(read_csv(out)) == 5
    # --fps-from-json: vid_a has no fps field
    with pytest.raises(SystemExit, match="vid_a.*no \"fps\""):
        mpl.main(['--gt', tiny_gt, '--out', str(out), '--fps-from-json'])
    with pytest.raises(SystemExit, match='no annotated instance'):
        mpl.main(['--gt', tiny_gt, '--out', str(out), '--subset', 'Test'])


def test_tiny_file_seeded_and_readable_by_the_dataset(tiny_gt, tmp_path):
    from hrpro_plugin.datasets.parsers.point_csv import load_point_csv
    paths = [tmp_path / f'{i}.csv' for i in range(3)]
    for p, seed in zip(paths, (7, 7, 8)):
        mpl.main(['--gt', tiny_gt, '--out', str(p), '--distribution',
                  'uniform', '--seed', str(seed)])
    assert paths[0].read_bytes() == paths[1].read_bytes()
    rows, has_index = load_point_csv(str(paths[0]))
    assert has_index and len(rows) == 4
    for r in read_csv(paths[2]):
        assert int(r['start_frame']) <= int(r['point']) <= int(
            r['stop_frame'])


def test_draw_point_rules():
    rng = np.random.default_rng(0)
    assert mpl.draw_point(rng, 10, 21, 'center') == 15
    assert mpl.draw_point(rng, 5, 5, 'gaussian') == 5
    g = [mpl.draw_point(rng, 0, 600, 'gaussian') for _ in range(4000)]
    assert abs(np.mean(g) - 300) < 5 and abs(np.std(g) - 100) < 5
    u = [mpl.draw_point(rng, 0, 3, 'uniform') for _ in range(2000)]
    assert set(u) == {0, 1, 2, 3}  # both ends included
    with pytest.raises(ValueError, match='unknown distribution'):
        mpl.draw_point(rng, 0, 3, 'poisson')


def test_thumos14_three_distributions(shared_data, tmp_path):
    gt = osp.join(shared_data, 'THUMOS14', 'gt_full.json')
    db = json.load(open(gt))['database']
    n_train = sum(len(v['annotations']) for v in db.values()
                  if v['subset'] == 'Validation')
    rows = {}
    for dist in ('gaussian', 'uniform', 'center'):
        out = tmp_path / f'{dist}.csv'
        mpl.main(['--gt', gt, '--out', str(out), '--distribution', dist,
                  '--seed', '0'])
        rows[dist] = read_csv(out)
        assert len(rows[dist]) == n_train
        assert all(r['video_id'].startswith('video_validation_')
                   for r in rows[dist])
    # frames from "segment(frames)", class_index from label_id, as in the
    # released point file
    real = read_csv_any(osp.join(shared_data, 'THUMOS14', 'point_labels',
                                 'point_gaussian.csv'))
    index = {r['class']: r['class_index'] for r in real}
    assert {r['class']: r['class_index'] for r in rows['gaussian']} == index
    ours = {}
    for r in rows['gaussian']:
        ours.setdefault(r['video_id'], []).append(
            (int(r['start_frame']), int(r['stop_frame'])))
    for r in real:  # every released instance is ours within a frame
        s, e = float(r['start_frame']), float(r['stop_frame'])
        assert any(abs(s - a) <= 1 and abs(e - b) <= 1
                   for a, b in ours[r['video_id']]), r

    pos = {d: rel_positions(r) for d, r in rows.items()}
    for r in rows['center']:  # exact middle frame
        s, e = int(r['start_frame']), int(r['stop_frame'])
        assert int(r['point']) == (s + e) // 2
    assert abs(pos['gaussian'].mean() - 0.5) < 0.02
    assert abs(pos['uniform'].mean() - 0.5) < 0.03
    assert 0.14 < pos['gaussian'].std() < 0.18       # length / 6
    assert 0.26 < pos['uniform'].std() < 0.31        # 1 / sqrt(12)
    assert pos['uniform'].std() > 1.5 * pos['gaussian'].std()
    assert pos['center'].std() < 0.01


def read_csv_any(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def test_gtea_sorted_class_index_and_seed(shared_data, tmp_path):
    gt = osp.join(shared_data, 'GTEA', 'gt_full.json')
    a, b, c = (tmp_path / 'a.csv', tmp_path / 'b.csv', tmp_path / 'c.csv')
    for path, seed in ((a, 1), (b, 1), (c, 2)):
        mpl.main(['--gt', gt, '--out', str(path), '--seed', str(seed)])
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    rows = read_csv(a)
    classes = sorted({r['class'] for r in rows})
    assert len(classes) == 7
    assert all(int(r['class_index']) == classes.index(r['class'])
               for r in rows)
    rel_positions(rows)  # inside every instance
    # same instances (frames at 15 fps) as the released GTEA point file
    real = read_csv_any(osp.join(shared_data, 'GTEA', 'point_labels',
                                 'point_gaussian.csv'))
    assert sorted((r['video_id'], round(float(r['start_frame'])))
                  for r in real) == sorted(
        (r['video_id'], int(r['start_frame'])) for r in rows)
