"""Model parts, laid out as the paper's two levels; importing registers
them into mmaction's MODELS registry.

- ``snippet_level/``: stage 1. RAB neck, prototype memory, snippet head,
  pseudo-snippet labels, L_base (point focal loss) and L_contra.
- ``instance_level/``: stage 2. PP/RP/NP mining,
  stage-2 batching, 1-D RoI-align, instance head, target assignment,
  sampling and the instance losses.
- ``proposals/``: candidate proposals and their OIC scores, used by both
  levels and by inference.
- ``postprocessing/``: class-wise soft-NMS.
- ``localizers/``: ``HRPro``, which wires them; ``data_preprocessors/``:
  batching of variable-length videos.
"""
from .data_preprocessors import *  # noqa: F401,F403
from .instance_level import *  # noqa: F401,F403
from .localizers import *  # noqa: F401,F403
from .postprocessing import *  # noqa: F401,F403
from .proposals import *  # noqa: F401,F403
from .snippet_level import *  # noqa: F401,F403
