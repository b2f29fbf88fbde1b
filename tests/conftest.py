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


from _helpers import make_tiny_dataset, run_tool, TINY_TRAIN_OPTIONS  # noqa: E402,F401


@pytest.fixture(scope='session')
def tiny_dataset(tmp_path_factory):
    return make_tiny_dataset(tmp_path_factory.mktemp('tiny_data'))


@pytest.fixture(scope='session')
def tiny_run(tiny_dataset, tmp_path_factory):
    """A finished two-stage run: dict(data_root, work_dir, config)."""
    work_dir = str(tmp_path_factory.mktemp('tiny_run'))
    config = 'configs/hrpro_synthetic.py'
    run_tool('tools/train.py', config, '--data-root', tiny_dataset,
             '--work-dir', work_dir, '--cfg-options', *TINY_TRAIN_OPTIONS)
    # 'config' is the run's own dumped config: it carries the tiny options
    # (tools/test.py loads checkpoints strictly)
    return dict(data_root=tiny_dataset, work_dir=work_dir,
                config=os.path.join(work_dir, 'hrpro_synthetic.py'),
                base_config=config)


@pytest.fixture(autouse=True)
def _mmaction_scope():
    """Every test runs with mmaction's default scope: a test that builds a
    Runner with another scope must not change which registry the next test
    builds from."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmaction'):
        yield
