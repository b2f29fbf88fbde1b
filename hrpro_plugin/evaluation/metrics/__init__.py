"""Metrics; importing registers them into ``mmaction.registry.METRICS``."""
from .dump_tal_results import DumpTALResults
from .tal_map_metric import TALmAPMetric

__all__ = ['DumpTALResults', 'TALmAPMetric']
