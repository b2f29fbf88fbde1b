"""Stage 1, the snippet level: the Reliability-aware Attention Block stack
with the class prototypes as tokens, the prototype memory, the snippet head
(CAS, attention, video scores), the pseudo action/background snippets, and
the losses L_base and L_contra."""
from .contrastive_loss import ReliableContrastiveLoss
from .memory import PrototypeMemory
from .point_focal_loss import PointFocalLoss
from .pseudo_snippets import mine_pseudo_snippets
from .rab_neck import RABNeck
from .snippet_head import SnippetHead

__all__ = ['RABNeck', 'PrototypeMemory', 'SnippetHead', 'PointFocalLoss',
           'ReliableContrastiveLoss', 'mine_pseudo_snippets']
