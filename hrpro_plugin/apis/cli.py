"""The one error wrapper of tools/train.py and tools/test.py."""
import os
import sys


def run_cli(main) -> None:
    """Run ``main()``; print the errors a user can fix (bad data, a config
    mistake, a non-finite loss or model output) as one line and exit 1.
    ``HRPRO_DEBUG=1`` shows the traceback instead."""
    from ..datasets.annotations import DataError
    from ..engine.config_checks import ConfigError
    from ..models.localizers.hrpro import NonFiniteLossError
    try:
        main()
    except (DataError, ConfigError, NonFiniteLossError) as err:
        if os.environ.get('HRPRO_DEBUG'):
            raise
        sys.exit(f'error: {err}')
