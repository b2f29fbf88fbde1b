"""Engine parts: hooks and the two-stage train loop."""
from .hooks import *  # noqa: F401,F403
from .loops import *  # noqa: F401,F403
