"""hrpro_plugin.visualization.selection: top-k, prediction sets, classes."""
from collections import OrderedDict

import numpy as np
import pytest

from hrpro_plugin.visualization import relevant_classes
from hrpro_plugin.visualization.selection import (as_triplet,
                                                  classes_of_sets,
                                                  prediction_sets,
                                                  top_predictions)


def test_top_predictions_known_answer():
    segs, labels, scores = top_predictions(
        [[0, 1], [2, 3], [4, 5], [6, 7]], [0, 1, 2, 3],
        [0.1, 0.9, 0.5, 0.9], top_k=3)
    # by score, ties in input order
    assert labels.tolist() == [1, 3, 2]
    assert segs.tolist() == [[2, 3], [6, 7], [4, 5]]
    assert scores.tolist() == [0.9, 0.9, 0.5]
    assert top_predictions(None, None, None, 5)[0].shape == (0, 2)
    assert top_predictions([[0, 1]], [0], [0.5], -1)[0].shape == (0, 2)
    with pytest.raises(ValueError, match='2 segments, 1 labels'):
        top_predictions([[0, 1], [1, 2]], [0], [0.5, 0.4], 5)


def test_prediction_sets_one_or_several():
    one = prediction_sets(([[0, 1], [1, 2]], [0, 1], [0.2, 0.8]), top_k=1)
    assert list(one) == ['pred'] and one['pred'][1].tolist() == [1]
    as_dict = prediction_sets(dict(segments=[[0, 1]], labels=[0],
                                   scores=[0.5]), top_k=5)
    assert list(as_dict) == ['pred']
    sets = prediction_sets(OrderedDict(
        [('b', ([[0, 1]], [0], [0.5])),
         (2, dict(segments=[[1, 2]], labels=[1], scores=[0.4]))]), 5)
    assert list(sets) == ['b', '2']  # order kept, names as strings
    with pytest.raises(ValueError, match='no prediction set'):
        prediction_sets({}, 5)
    with pytest.raises(ValueError, match="predictions 'x': expected keys"):
        prediction_sets({'x': {'segments': [[0, 1]]}}, 5)
    with pytest.raises(ValueError, match='expected \\(segments'):
        as_triplet(([[0, 1]], [0]), 'p')


def test_relevant_classes_known_answer():
    # ground truth, then points, then the top-k predictions by score
    assert relevant_classes([3, 1, 3], [5, 0, 2], [0.1, 0.9, 0.5], [4],
                            top_k=2) == [3, 1, 4, 0, 2]
    assert relevant_classes(None, [5, 0, 2], [0.1, 0.9, 0.5],
                            max_classes=2) == [0, 2]
    assert relevant_classes() == []
    assert relevant_classes([1, 2], max_classes=0) == [1]  # at least one


def test_classes_of_sets_known_answer():
    sets = OrderedDict(
        a=(np.zeros((3, 2)), np.array([4, 5, 6]), np.array([0.1, 0.2, 0.3])),
        b=(np.zeros((2, 2)), np.array([7, 4]), np.array([0.9, 0.1])))
    # ground truth and points, then set a's classes by score, then set b's
    assert classes_of_sets(np.array([1]), np.array([2]), sets, 10) == \
        [1, 2, 6, 5, 4, 7]
    # at most six
    assert classes_of_sets(np.array([0, 1, 8]), np.array([9]), sets, 10) \
        == [0, 1, 8, 9, 6, 5]
