"""MMEngine's Runner with a readable first screen."""
from mmengine.runner import Runner

from mmaction.registry import RUNNERS
from .log_utils import quiet_logger


@RUNNERS.register_module()
class HRProRunner(Runner):
    """:class:`mmengine.runner.Runner`, but the hook table and the
    per-parameter ``paramwise_options`` lines are logged at DEBUG (shown
    with ``log_level='DEBUG'``), so the first training line is not buried
    under a hundred lines of them. Everything else is MMEngine's.

    Selected by ``runner_type = 'HRProRunner'`` (configs/_base_/
    default_runtime.py); ``tools/train.py`` and ``tools/test.py`` build the
    runner with ``RUNNERS.build(cfg)`` as MMAction2's tools do.
    """

    def build_logger(self, log_level='INFO', log_file=None, **kwargs):
        # the logger is built before the hooks are registered and logged
        return quiet_logger(super().build_logger(log_level, log_file,
                                                 **kwargs))
