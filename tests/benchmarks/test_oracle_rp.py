"""``benchmarks/oracle_rp.py``: an RP takes the boundaries (in snippets) of
the ground-truth instance of its class that holds its point; others keep
theirs. Checked by hand on one video."""
import numpy as np
import pytest
import torch

from _helpers import load_script


@pytest.fixture(scope='module')
def oracle():
    return load_script('benchmarks/oracle_rp.py', 'oracle_rp_under_test')


def test_exact_rp_by_hand(oracle):
    t = torch.tensor
    rp = dict(video_index=t([0, 1, 1, 1, 1, 1]),
              start=t([0.0, 1.0, 10.0, 20.0, 30.0, 40.0]),
              end=t([2.0, 3.0, 12.0, 22.0, 32.0, 42.0]),
              label=t([0, 0, 1, 0, 1, 2]))
    point = t([1, 2, 11, 21, 31, 12])
    # video 1, 0.5 s snippets; instances in seconds
    seg = np.array([[0.5, 2.0],     # class 0: holds snippet 2 (t = 1.25 s)
                    [5.0, 6.5],     # class 1: holds snippet 11 (t = 5.75 s)
                    [9.0, 11.0],    # class 0, wide: holds snippet 21
                    [10.5, 11.0],   # class 0, narrow: its centre 10.75 s
                    [15.0, 16.0],   # class 0: snippet 31 (15.75 s) is class 1
                    [6.1, 7.0]])    # class 2: snippet 12 at its centre 6.25 s
    lab = np.array([0, 1, 0, 0, 0, 2])
    rows = oracle.exact_rp(rp, 1, point, seg, lab, sec=0.5)
    assert rows.tolist() == [1, 2, 3, 5]
    # 0.5 / 0.5 = 1, 2.0 / 0.5 = 4; 5 / 0.5 = 10, 6.5 / 0.5 = 13;
    # point 21 -> 10.75 s lies in both class-0 instances 9-11 (centre 10)
    # and 10.5-11 (centre 10.75): the nearest centre wins -> 21, 22;
    # a point is the snippet's centre: 12 -> 6.25 s (not 6.0) lies in
    # 6.1-7.0 -> 12.2, 14
    assert rp['start'].tolist() == pytest.approx(
        [0.0, 1.0, 10.0, 21.0, 30.0, 12.2])
    assert rp['end'].tolist() == [2.0, 4.0, 13.0, 22.0, 32.0, 14.0]
    # video 0 untouched by a call for video 1; no instances: nothing set
    assert oracle.exact_rp(rp, 0, point, np.zeros((0, 2)), np.zeros(0),
                           sec=0.5).tolist() == []
    assert rp['start'][0] == 0.0 and rp['end'][0] == 2.0
