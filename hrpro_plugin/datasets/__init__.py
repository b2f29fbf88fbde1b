"""Sub-package datasets; imports register its parts."""
from .parsers.errors import DataError, MissingFileError
from .parsers.features import infer_feat_dim
from .point_tal_dataset import PointTALDataset
from .samplers import LengthBucketBatchSampler
from .transforms import *  # noqa: F401,F403
from .transforms import __all__ as _transforms_all

__all__ = [
    'DataError', 'MissingFileError', 'PointTALDataset', 'infer_feat_dim',
    'LengthBucketBatchSampler'
] + list(_transforms_all)
