from .point_tal_preprocessor import PointTALDataPreprocessor

__all__ = ['PointTALDataPreprocessor']
