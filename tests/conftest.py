"""Shared fixtures. Real annotation files are found through HRPRO_SHARED_DATA
(default ../shared/data); where missing, tests that need them skip, except
under CI=true, where a missing folder fails."""
import os
import os.path as osp

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def shared_data_dir() -> str:
    return os.environ.get('HRPRO_SHARED_DATA',
                          osp.join(REPO_ROOT, '..', 'shared', 'data'))


@pytest.fixture
def shared_data():
    """Path of the folder holding THUMOS14/, GTEA/, BEOID/, ActivityNet1.3/."""
    path = shared_data_dir()
    if not osp.isdir(path):
        if os.environ.get('CI', '').lower() == 'true':
            pytest.fail(f'HRPRO_SHARED_DATA={path} does not exist (required under CI=true)')
        pytest.skip(f'real annotation folder {path} not found; set HRPRO_SHARED_DATA')
    return path
