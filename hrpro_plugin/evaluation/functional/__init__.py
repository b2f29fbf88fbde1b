"""Pure scoring functions (NumPy/PyTorch only, no MMEngine)."""
from .ap import (AVERAGE_RANGES, average_precision, filter_ambiguous,
                 mean_average_precision, summarize_map)
from .results_io import (load_ambiguous, load_ground_truth, load_results,
                         read_split, write_results)
from ...ops.tiou import pairwise_tiou, pairwise_tiou_np

__all__ = [
    'pairwise_tiou', 'pairwise_tiou_np', 'average_precision',
    'mean_average_precision', 'filter_ambiguous', 'summarize_map',
    'AVERAGE_RANGES', 'load_results', 'write_results', 'load_ambiguous',
    'load_ground_truth', 'read_split'
]
from .error_analysis import analyze_errors, classify_predictions  # noqa
