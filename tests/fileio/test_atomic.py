"""The package's one atomic writer: the path holds the old content or the
whole new one, never a part."""
import os

import pytest
import torch

from hrpro_plugin import compat
from hrpro_plugin.fileio import (atomic_write, atomic_write_bytes,
                                 load_proposals, save_proposals)
from hrpro_plugin.fileio.proposal_file import make_proposal_data


def test_one_writer_for_checkpoints_and_the_mining_file():
    # compat's checkpoint patch uses the fileio writer, not a copy of it
    assert compat.atomic_write_bytes is atomic_write_bytes


def test_write_replaces_and_keeps_the_mode(tmp_path):
    path = tmp_path / 'f.bin'
    atomic_write_bytes(b'old', path)
    os.chmod(path, 0o640)
    atomic_write(path, lambda f: (f.write(b'ne'), f.write(b'w')))
    assert path.read_bytes() == b'new'
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o640)
    assert os.listdir(tmp_path) == ['f.bin']


def test_failing_write_keeps_the_old_content(tmp_path):
    path = tmp_path / 'f.bin'
    atomic_write_bytes(b'old', path)

    def half(f):
        f.write(b'half of it')
        raise OSError(28, 'No space left on device')

    with pytest.raises(OSError, match='No space'):
        atomic_write(path, half)
    assert path.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['f.bin']   # the temporary file is gone


def test_stale_temporary_removed_and_links_written_through(tmp_path):
    target = tmp_path / 'real.bin'
    target.write_bytes(b'x')
    link = tmp_path / 'link.bin'
    link.symlink_to(target)
    stale = tmp_path / '.real.bin.99999.tmp'   # a killed writer's leftover
    stale.write_bytes(b'partial')
    atomic_write_bytes(b'through', link)
    assert link.is_symlink() and target.read_bytes() == b'through'
    assert sorted(os.listdir(tmp_path)) == ['link.bin', 'real.bin']


def _empty_data(seed):
    empty = dict(batch_idx=torch.zeros(0, dtype=torch.long),
                 start=torch.zeros(0), end=torch.zeros(0))
    long0 = torch.zeros(0, dtype=torch.long)
    mined = dict(pp=dict(empty, label=long0, score=torch.zeros(0)),
                 rp=dict(empty, label=long0, score=torch.zeros(0),
                         pp_index=long0, point_snippet=long0,
                         point_label=long0),
                 np=empty)
    return make_proposal_data(['a'], mined, seed=seed, checkpoint='c')


def test_save_proposals_failing_midway_keeps_the_previous_file(
        tmp_path, monkeypatch):
    path = str(tmp_path / 'mined_proposals.pt')
    save_proposals(path, _empty_data(seed=1))

    def broken_save(obj, f, *args, **kwargs):
        f.write(b'PK\x03\x04 a few bytes')
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(torch, 'save', broken_save)
    with pytest.raises(OSError, match='No space'):
        save_proposals(path, _empty_data(seed=2))
    monkeypatch.undo()
    assert load_proposals(path)['seed'] == 1
    assert os.listdir(tmp_path) == ['mined_proposals.pt']
