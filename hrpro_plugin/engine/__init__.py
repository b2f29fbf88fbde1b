"""Sub-package engine; imports register its parts."""
