"""Sub-package models; imports register its parts."""
