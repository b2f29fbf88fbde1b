"""Process-level helpers of the tools (no model code)."""
from .threads import ThreadConfigError, available_cpus, configure_threads

__all__ = ['ThreadConfigError', 'available_cpus', 'configure_threads']
