from .hrpro import HRPro

__all__ = ['HRPro']
