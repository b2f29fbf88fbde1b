"""hrpro_plugin.visualization.style: class colours and score opacity."""
import numpy as np
import pytest

from hrpro_plugin.visualization.style import class_colors, opacity

TAB_BLUE = (0.12156862745098039, 0.4666666666666667, 0.7058823529411765, 1)


def test_class_colors_known_answer():
    # up to 10 classes: tab10 (blue, orange, ...)
    two = class_colors(2)
    assert two[0] == pytest.approx(TAB_BLUE)
    assert two[1] == pytest.approx((1.0, 0.4980392156862745,
                                    0.054901960784313725, 1.0))
    # more: tab20 (blue, light blue, ...), repeating after 20
    many = class_colors(25)
    assert many[0] == pytest.approx(TAB_BLUE)
    assert many[1] == pytest.approx((0.6823529411764706, 0.7803921568627451,
                                     0.9098039215686274, 1.0))
    assert many[20] == many[0] and len(set(many[:20])) == 20
    assert class_colors(0) == []


def test_opacity_known_answer():
    assert opacity(np.array([1.0, 2.0, 3.0])).tolist() == pytest.approx(
        [0.35, 0.675, 1.0])
    assert opacity(np.array([0.4, 0.4])).tolist() == [1.0, 1.0]
    assert opacity(np.zeros(0)).size == 0
