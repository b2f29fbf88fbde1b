"""Transforms of point-supervised TAL samples (register into TRANSFORMS)."""
from .formatting import PackPointTALInputs
from .loading import LoadSnippetFeatures

__all__ = ['LoadSnippetFeatures', 'PackPointTALInputs']
