"""Small operations shared by the model and the evaluation (so that neither
imports the other): tIoU, the blocked dropout attention of the RAB neck's
CPU training path, and the length grouping of a batch; how a box misses
its instance (``fit_kind``, for the diagnostics in ``benchmarks/``)."""
from .length_groups import length_groups
from .masked_attention import blocked_dropout_attention
from .tiou import fit_kind, pairwise_tiou, pairwise_tiou_np

__all__ = ['fit_kind', 'pairwise_tiou', 'pairwise_tiou_np', 'blocked_dropout_attention',
           'length_groups']
