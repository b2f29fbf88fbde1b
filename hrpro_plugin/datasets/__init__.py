"""Sub-package datasets; imports register its parts."""
