"""hrpro_plugin.visualization.error_analysis: the analyze_errors figure."""
import numpy as np
import pytest

from hrpro_plugin.visualization import plot_error_analysis
from hrpro_plugin.visualization.error_analysis import CATEGORY_COLORS


@pytest.fixture
def summary():
    from hrpro_plugin.evaluation.functional import analyze_errors
    gt = {'v': (np.array([[0, 10], [20, 30]], dtype=float), np.array([0, 1]))}
    preds = {'v': (np.array([[0, 10], [1, 10], [22, 30], [50, 60]],
                            dtype=float), np.array([0, 0, 1, 1]),
                   np.array([0.9, 0.8, 0.7, 0.6]))}
    return analyze_errors(gt, preds, ['a', 'b'], tiou=0.5)


def test_plot_error_analysis(tmp_path, summary, png_size):
    size = plot_error_analysis(summary, str(tmp_path / 'e.png'), width=10,
                               dpi=50)
    assert size == (500, 210) == png_size(tmp_path / 'e.png')


def test_plot_error_analysis_panels(tmp_path, summary, figures):
    plot_error_analysis(summary, str(tmp_path / 'e.png'), width=10, dpi=40)
    profile, by_length, by_count, gains = figures[-1].axes
    assert profile.get_title() == 'false-positive profile (tIoU 0.5)'
    assert [t.get_text() for t in profile.get_legend().get_texts()] == [
        k.replace('_', ' ') for k in CATEGORY_COLORS]
    assert by_length.get_title() == 'false negatives by action length'
    assert by_count.get_title() == \
        'false negatives by same-class segments a video'
    assert gains.get_title() == 'if this error type were removed'
    # without gains the last panel is blank; names can be replaced
    names = {k: k.upper() for k in CATEGORY_COLORS}
    plot_error_analysis(dict(summary, gains=None), str(tmp_path / 'f.png'),
                        category_names=names, width=10, dpi=40)
    profile, _, _, gains = figures[-1].axes
    assert not gains.axison
    assert profile.get_legend().get_texts()[0].get_text() == 'TRUE_POSITIVE'
