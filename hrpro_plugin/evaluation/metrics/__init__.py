"""Metrics; importing registers them into ``mmaction.registry.METRICS``."""
from .tal_map_metric import TALmAPMetric

__all__ = ['TALmAPMetric']
