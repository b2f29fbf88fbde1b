import numpy as np
import pytest

from hrpro_plugin.apis.inference import inference_localizer


class _NoConfigModel:
    """A model without ``cfg`` (not loaded through init_localizer)."""
    dataset_meta = dict(classes=['a'])
    feat_dim = 8


def test_snippet_seconds_is_required_without_a_config():
    with pytest.raises(ValueError, match='snippet_seconds is needed'):
        inference_localizer(_NoConfigModel(), np.zeros((4, 8), np.float32))


def test_snippet_seconds_must_be_positive():
    with pytest.raises(ValueError, match='snippet_seconds must be > 0'):
        inference_localizer(_NoConfigModel(), np.zeros((4, 8), np.float32),
                            snippet_seconds=0)
