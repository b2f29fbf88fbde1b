"""Post-processing of detections: class-wise Gaussian soft-NMS per video."""
from .soft_nms import SoftNMSPostProcessor, batched_soft_nms

__all__ = ['SoftNMSPostProcessor', 'batched_soft_nms']
