"""Model parts; importing registers them into mmaction's MODELS registry."""
from .data_preprocessors import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .localizers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .memory import PrototypeMemory  # noqa: F401
from .necks import *  # noqa: F401,F403
from .proposals import *  # noqa: F401,F403
