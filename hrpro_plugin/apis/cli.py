"""The one error wrapper of tools/train.py and tools/test.py."""
import os
import sys


def run_cli(main) -> None:
    """Set torch's thread count (:func:`hrpro_plugin.utils.configure_threads`:
    ``HRPRO_NUM_THREADS``, else ``OMP_NUM_THREADS``, else the CPUs of this
    process), then run ``main()``; print the errors a user can fix (bad data,
    a config mistake, a non-finite loss or model output, a bad thread count)
    as one line and exit 1. ``HRPRO_DEBUG=1`` shows the traceback instead."""
    from ..datasets.parsers.errors import DataError
    from ..engine.config_checks import ConfigError
    from ..models.localizers.hrpro import NonFiniteLossError
    from ..utils.threads import ThreadConfigError, configure_threads
    try:
        configure_threads()
        main()
    except (DataError, ConfigError, NonFiniteLossError,
            ThreadConfigError) as err:
        if os.environ.get('HRPRO_DEBUG'):
            raise
        sys.exit(f'error: {err}')
