"""Engine parts: hooks, the two-stage train loop and the runner."""
from .hooks import *  # noqa: F401,F403
from .loops import *  # noqa: F401,F403
from .runner import HRProRunner  # noqa: F401
