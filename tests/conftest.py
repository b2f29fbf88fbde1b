"""Shared fixtures. The real annotation files are the copies shipped in
``data/`` (``data/README.md``), so no test that needs them skips."""
import os
import os.path as osp
import shutil

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

# the shipped folders under data/, by the dataset names the tests use
REAL_ANNOTATIONS = {'THUMOS14': 'thumos14', 'GTEA': 'gtea', 'BEOID': 'beoid',
                    'ActivityNet1.3': 'activitynet13'}


@pytest.fixture(scope='session')
def shared_data(tmp_path_factory):
    """A folder holding THUMOS14/, GTEA/, BEOID/, ActivityNet1.3/: copies of
    the annotation files shipped in ``data/`` (copies, so that no test can
    write into the repository)."""
    root = tmp_path_factory.mktemp('real_annotations')
    for name, folder in REAL_ANNOTATIONS.items():
        src = osp.join(REPO_ROOT, 'data', folder)
        if not osp.isfile(osp.join(src, 'split_train.txt')):
            pytest.fail(f'{src} lacks the shipped annotation files')
        shutil.copytree(src, osp.join(str(root), name))
    return str(root)


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


@pytest.fixture
def figures(monkeypatch):
    """The matplotlib figures saved during the test."""
    from matplotlib.figure import Figure
    saved = []
    original = Figure.savefig

    def spy(self, *args, **kwargs):
        saved.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Figure, 'savefig', spy)
    return saved
