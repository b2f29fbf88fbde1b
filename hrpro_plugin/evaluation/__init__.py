"""Sub-package evaluation; imports register its parts."""
