"""``benchmarks/parity/proposal_recall.py``: best tIoU per ground-truth
instance (by class) and per RP, by hand on one video."""
import numpy as np
import pytest

from _helpers import load_script


@pytest.fixture(scope='module')
def recall():
    return load_script('benchmarks/parity/proposal_recall.py',
                       'proposal_recall_under_test')


def test_best_tiou_by_hand(recall):
    boxes = np.array([[0.0, 4.0], [2.0, 6.0]])
    targets = np.array([[1.0, 5.0], [10.0, 11.0]])
    # [1, 5] vs [0, 4]: 3 / 5; vs [2, 6]: 3 / 5 -> 0.6; [10, 11]: no overlap
    assert recall.best_tiou(boxes, targets).tolist() == pytest.approx(
        [0.6, 0.0])
    assert recall.best_tiou(np.zeros((0, 2)), targets).tolist() == [0, 0]


def test_recall_and_rp_fit_by_class(recall):
    database = {'v': {'annotations': [
        {'label': 'Run', 'segment': [0.0, 2.0]},
        {'label': 'Run', 'segment': [4.0, 8.0]},
        {'label': 'Jump', 'segment': [0.0, 2.0]}]}}
    part = {'v': {'PP': {'Run': [[0.0, 2.0, 0.9], [5.0, 8.0, 0.1]]},
                  'RP': {'Run': [[4.0, 6.0, 0.5]], 'Jump': [[1.0, 2.0, 0.2]]}}}
    # Run [0, 2]: 1.0; Run [4, 8] vs [5, 8]: 3 / 4; Jump has no PP: 0
    got = sorted(recall.gt_recall(part, database).tolist())
    assert got == pytest.approx([0.0, 0.75, 1.0])
    # RP Run [4, 6] vs [4, 8]: 2 / 4; RP Jump [1, 2] vs [0, 2]: 1 / 2
    assert sorted(recall.rp_fit(part, database).tolist()) == \
        pytest.approx([0.5, 0.5])
    assert recall.shares(np.array([0.0, 0.75, 1.0]), (0.5, 0.9)) == \
        '>= 0.5: 66.7%, >= 0.9: 33.3%'


def test_rp_fit_kinds_by_hand(recall):
    targets = np.array([[2.0, 6.0], [10.0, 12.0]])
    boxes = np.array([[1.0, 7.0], [3.0, 5.0], [1.0, 5.0], [2.0, 6.0],
                      [10.5, 13.0]])
    # holds [2, 6]; inside it; crosses its end; exact (counts as holding);
    # crosses the end of [10, 12]
    assert recall.fit_kinds(boxes, targets).tolist() == [0, 1, 2, 0, 2]
    assert recall.fit_kinds(boxes[:1], np.zeros((0, 2))).tolist() == [2]
    database = {'v': {'annotations': [
        {'label': 'Run', 'segment': [4.0, 8.0]},
        {'label': 'Jump', 'segment': [0.0, 2.0]}]}}
    part = {'v': {'RP': {'Run': [[3.0, 9.0, 0.5], [5.0, 6.0, 0.4]],
                         'Jump': [[1.0, 3.0, 0.2]]}}}
    assert recall.rp_kinds(part, database).tolist() == [0, 1, 2]


def test_a_video_missing_from_the_annotations_is_named(recall):
    with pytest.raises(SystemExit, match='video w of the proposal file'):
        recall.gt_recall({'w': {'PP': {}}}, {})
    with pytest.raises(SystemExit, match='video w of the proposal file'):
        recall.rp_fit({'w': {'RP': {}}}, {})
