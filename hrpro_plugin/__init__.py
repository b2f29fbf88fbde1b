"""HR-Pro (point-supervised temporal action localization) for MMAction2.

Importing this package registers every part into ``mmaction.registry``.
"""
from . import compat

compat.apply_all()

from . import datasets, engine, evaluation, models  # noqa: E402,F401

__version__ = '0.1.0'
