"""Sub-package evaluation; imports register its parts."""
from . import functional  # noqa: F401
from .metrics import TALmAPMetric

__all__ = ['TALmAPMetric']
