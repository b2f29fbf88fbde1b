"""hrpro_plugin.visualization.text: the title, the score notes."""
import numpy as np

from hrpro_plugin.visualization import (GENERIC_SCORE_NOTE,
                                        HRPRO_SCORE_NOTE, video_title)


def test_video_title():
    assert video_title('v', 3, None, 10) == 'v | 3 GT | top-10 predictions'
    assert video_title('v', 3, [], 10) == \
        'v | 3 GT | no point labels | top-10 predictions'
    assert video_title('v', 1, [2.0], 5) == 'v | 1 GT | 1 point | top-5 ' \
        'predictions'
    assert video_title('v', 1, [2.0, 3.0], [5, 5]) == \
        'v | 1 GT | 2 points | top-5 predictions a set'
    assert video_title('v', 0, None, [5, 3], mining=True) == \
        'v | 0 GT | top-5 / 3 predictions | training mining'


def test_video_title_edge_cases():
    # no prediction count: nothing about predictions; NumPy counts work
    assert video_title('v', 2) == 'v | 2 GT'
    assert video_title('v', np.int64(2), np.zeros(0), np.int64(4)) == \
        'v | 2 GT | no point labels | top-4 predictions'
    assert video_title('v', 0, None, [3]) == \
        'v | 0 GT | top-3 predictions a set'


def test_score_notes():
    assert 'exceed 1' in HRPRO_SCORE_NOTE and 'OIC' in HRPRO_SCORE_NOTE
    assert GENERIC_SCORE_NOTE.startswith('score as given')
