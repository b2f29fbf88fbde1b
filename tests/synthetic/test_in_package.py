"""hrpro_plugin.synthetic imported with the package (not by path): the
same files as the by-path generator, and a refused annotation file raises
the dataset's own DataError class."""
import filecmp

import pytest

from _helpers import load_synthetic, tree_files


def test_imported_generator_writes_the_same_files(tmp_path):
    from hrpro_plugin import synthetic
    kwargs = dict(num_classes=2, num_train=3, num_test=2, feat_dim=8,
                  seed=5, log=None)
    a, b = str(tmp_path / 'imported'), str(tmp_path / 'by_path')
    synthetic.generate_dataset(a, **kwargs)
    load_synthetic().generate_dataset(b, **kwargs)
    files = tree_files(a)
    assert files == tree_files(b) and 'synthetic.json' in files
    assert filecmp.cmpfiles(a, b, files, shallow=False)[1] == []


def test_refused_annotations_raise_the_dataset_data_error(tmp_path):
    from hrpro_plugin.datasets import DataError
    from hrpro_plugin.synthetic import generate_dataset
    gt = tmp_path / 'gt_full.json'
    gt.write_text('{"database": {"v1": {"subset": "Validation", '
                  '"duration": 8.0, "fps": 30, "annotation": []}}}')
    with pytest.raises(DataError, match="no \"annotations\" key .*is "
                       "'annotation' misspelt"):
        generate_dataset(str(tmp_path / 'out'), annotations=str(gt),
                         log=None)
