from .contrastive_loss import ReliableContrastiveLoss
from .instance_losses import InstanceLoss
from .point_focal_loss import PointFocalLoss

__all__ = ['PointFocalLoss', 'ReliableContrastiveLoss', 'InstanceLoss']
