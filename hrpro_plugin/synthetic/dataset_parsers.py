"""The dataset's parser (:mod:`hrpro_plugin.datasets.parsers`, numpy and
the standard library only) for the annotations mode of the generator, so
that a file the dataset would refuse is refused here too.

Imported as ``hrpro_plugin.synthetic``, this is the package's own parser
module. Loaded by path (``tools/make_synthetic_dataset.py`` does, so that
torch and OpenMMLab are not imported), the parser package is loaded by path
too, under the name ``_hrpro_parsers``.
"""
import importlib
import importlib.util
import os.path as osp
import sys
from types import ModuleType

__all__ = ['dataset_parsers']

_PARSERS_DIR = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'datasets', 'parsers')
_BY_PATH_NAME = '_hrpro_parsers'


def dataset_parsers() -> ModuleType:
    """The parser package, imported normally when this module belongs to
    the imported ``hrpro_plugin`` package, else loaded by path."""
    if __name__.startswith('hrpro_plugin.'):
        return importlib.import_module('hrpro_plugin.datasets.parsers')
    if _BY_PATH_NAME not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            _BY_PATH_NAME, osp.join(_PARSERS_DIR, '__init__.py'),
            submodule_search_locations=[_PARSERS_DIR])
        mod = importlib.util.module_from_spec(spec)
        sys.modules[_BY_PATH_NAME] = mod
        try:
            spec.loader.exec_module(mod)
        except BaseException:
            del sys.modules[_BY_PATH_NAME]
            raise
    return sys.modules[_BY_PATH_NAME]
