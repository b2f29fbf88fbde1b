"""Stage 2, the instance level: reliable/positive/negative proposal mining
from the frozen stage-1 model (its file format is in hrpro_plugin/fileio),
stage-2 batching, 1-D
RoI-align, the instance head (completeness score and boundary regression),
and its target assignment, sampling and losses."""
from .instance_head import InstanceHead
from .instance_losses import InstanceLoss
from .mining import mine_proposals
from .roi_align import roi_align_1d

__all__ = ['InstanceHead', 'InstanceLoss', 'mine_proposals', 'roi_align_1d']
