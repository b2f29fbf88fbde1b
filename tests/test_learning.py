"""HR-Pro learns: both stages trained on a small fixed synthetic set (CPU,
one thread, ~20 s) clear mAP floors set from measurement.

Measured (tools/test.py, percent) on the set of
``_learning_data.make_learning_dataset`` (data seed 0), training seeds 0 / 1
/ 2, torch CPU, one thread:

    stage 1:  mAP_avg 74.7 / 75.5 / 75.2   mAP@0.7 40.7 / 42.0 / 45.7
    full:     mAP_avg 74.9 / 76.9 / 76.0   mAP@0.7 43.4 / 47.0 / 46.5

and on two other data seeds (1, 2; training seed 0): stage 1 67.1 / 79.2
avg, 39.3 / 57.8 @0.7; full 66.8 / 80.6 avg, 38.7 / 60.0 @0.7. The floors
sit 10-15 points below the lowest of all of these, so numerical drift
(another CPU, another torch) that changes the training trajectory as much
as a new seed does cannot fail them. Below them, measured: 12 stage-1
steps instead of 250 (stage 1 9.2 mAP_avg, 2.1 @0.7), the RAB neck
skipped (stage 1 45.2 / 12.0, full 50.5 / 16.2).

The full method beat stage 1 at mAP@0.7 in 5 of those 6 runs (by 0.8 to
5.0 points) and lost by 0.6 on data seed 1. On this fixed set (data seed
0) it won with every training seed (+2.7, +5.0, +0.8), so that is
asserted here (training seed 0: +2.7); so is that stage 2 does not undo
stage 1 on the average (at most 3 points lower, the largest drop measured
being 0.6).
"""
import pytest

from _learning_data import make_learning_dataset, train_and_score

STAGE1_AVG_FLOOR = 55.0
STAGE1_AT_07_FLOOR = 28.0
FULL_AVG_FLOOR = 55.0
FULL_AT_07_FLOOR = 28.0
MAX_STAGE2_DROP = 3.0


@pytest.fixture(scope='module')
def learned(tmp_path_factory):
    data_root = make_learning_dataset(tmp_path_factory.mktemp('learn_data'))
    work_dir = str(tmp_path_factory.mktemp('learn_run'))
    return train_and_score(data_root, work_dir)


@pytest.mark.slow
def test_stage1_clears_its_map_floor(learned):
    m = learned['stage1']
    assert m['mAP_avg'] >= STAGE1_AVG_FLOOR, m
    assert m['mAP@0.70'] >= STAGE1_AT_07_FLOOR, m


@pytest.mark.slow
def test_full_method_clears_its_map_floor(learned):
    m = learned['full']
    assert m['mAP_avg'] >= FULL_AVG_FLOOR, m
    assert m['mAP@0.70'] >= FULL_AT_07_FLOOR, m


@pytest.mark.slow
def test_stage2_does_not_undo_stage1(learned):
    s1, full = learned['stage1'], learned['full']
    for key in ('mAP_avg', 'mAP@0.70'):
        assert full[key] >= s1[key] - MAX_STAGE2_DROP, (key, s1, full)


@pytest.mark.slow
def test_full_method_beats_stage1_at_high_tiou(learned):
    s1, full = learned['stage1'], learned['full']
    assert full['mAP@0.70'] > s1['mAP@0.70'], (s1, full)
