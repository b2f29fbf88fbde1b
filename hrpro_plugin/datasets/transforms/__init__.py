"""Transforms of point-supervised TAL samples (register into TRANSFORMS)."""
from .formatting import PackPointTALInputs
from .loading import LoadSnippetFeatures
from .mined_proposals import LoadMinedProposals

__all__ = ['LoadSnippetFeatures', 'PackPointTALInputs', 'LoadMinedProposals']
