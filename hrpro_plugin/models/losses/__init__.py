from .contrastive_loss import ReliableContrastiveLoss
from .point_focal_loss import PointFocalLoss

__all__ = ['PointFocalLoss', 'ReliableContrastiveLoss']
