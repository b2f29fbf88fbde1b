"""Small operations shared by the model and the evaluation (so that neither
imports the other)."""
from .tiou import pairwise_tiou, pairwise_tiou_np

__all__ = ['pairwise_tiou', 'pairwise_tiou_np']
