"""A fresh run into a work dir of a finished run moves that run's
checkpoints and mining file aside instead of overwriting or reusing them."""
import os
import os.path as osp

from _helpers import load_script

train = load_script('tools/train.py', 'hrpro_train_tool')


def _touch(path, text='x'):
    with open(path, 'w') as f:
        f.write(text)


def test_previous_run_moved_aside(tmp_path, capsys):
    wd = str(tmp_path)
    for n in ('stage1.pth', 'stage2.pth', 'mined_proposals.pt',
              'iter_1000.pth', 'epoch_3.pth', 'last_checkpoint', 'train.log',
              'notes.txt'):
        _touch(osp.join(wd, n), n)
    dest = train.set_aside_previous_run(wd)
    assert dest is not None and osp.dirname(dest) == wd
    assert sorted(os.listdir(dest)) == sorted(
        ['stage1.pth', 'stage2.pth', 'mined_proposals.pt', 'iter_1000.pth',
         'epoch_3.pth', 'last_checkpoint'])
    # nothing lost: the moved files keep their contents
    with open(osp.join(dest, 'stage2.pth')) as f:
        assert f.read() == 'stage2.pth'
    # logs and other files stay
    assert {'train.log', 'notes.txt'} <= set(os.listdir(wd))
    out = capsys.readouterr().out
    assert 'stage2.pth' in out and dest in out and '--resume' in out
    # a second call finds nothing to move
    assert train.set_aside_previous_run(wd) is None


def test_load_from_checkpoint_stays(tmp_path):
    wd = str(tmp_path)
    _touch(osp.join(wd, 'stage1.pth'))
    _touch(osp.join(wd, 'mined_proposals.pt'))
    dest = train.set_aside_previous_run(wd, keep=osp.join(wd, 'stage1.pth'))
    assert os.listdir(dest) == ['mined_proposals.pt']
    assert osp.isfile(osp.join(wd, 'stage1.pth'))


def test_empty_or_missing_work_dir(tmp_path):
    assert train.set_aside_previous_run(str(tmp_path)) is None
    assert train.set_aside_previous_run(str(tmp_path / 'nope')) is None
