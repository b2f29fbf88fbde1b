from .rab_neck import RABNeck

__all__ = ['RABNeck']
