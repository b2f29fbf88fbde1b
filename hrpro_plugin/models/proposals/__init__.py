"""Pure tensor functions on proposals (snippet units) and the soft-NMS
post-processor; only SoftNMSPostProcessor is a registered module."""
from .candidates import generate_candidates
from .mining import mine_proposals
from .pseudo_snippets import mine_pseudo_snippets
from .roi_align import roi_align_1d
from .soft_nms import SoftNMSPostProcessor, batched_soft_nms

__all__ = ['generate_candidates', 'mine_proposals', 'mine_pseudo_snippets',
           'roi_align_1d', 'SoftNMSPostProcessor', 'batched_soft_nms']
