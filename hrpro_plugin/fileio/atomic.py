"""The package's one atomic file writer (checkpoints through
``compat.patch_atomic_checkpoint_write``, the mining file through
:func:`hrpro_plugin.fileio.proposal_file.save_proposals`)."""
import glob
import os
import os.path as osp
import stat
from typing import BinaryIO, Callable


def atomic_write(filepath, write: Callable[[BinaryIO], None]) -> None:
    """Write ``filepath`` through ``write(f)`` (``f`` a binary file) so
    that the path holds either its old content or all that ``write``
    wrote, never a part: write a hidden temporary file in the same
    directory (``.<name>.<pid>.tmp``), flush and fsync it, ``os.replace``
    it onto ``filepath``, then fsync the directory. A symbolic link is
    written through (its target is replaced); the old file's permission
    bits are kept. Temporary files left by a process that was killed while
    writing the same name are removed first. On any error (``write``'s
    too) the temporary file is removed and the error raised."""
    path = os.fspath(filepath)
    if osp.islink(path):
        path = osp.realpath(path)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    name = osp.basename(path)
    for stale in glob.glob(osp.join(glob.escape(folder),
                                    f'.{glob.escape(name)}.*.tmp')):
        try:
            os.remove(stale)
        except OSError:
            pass
    tmp = osp.join(folder, f'.{name}.{os.getpid()}.tmp')
    try:
        with open(tmp, 'xb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if osp.exists(path):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)


def atomic_write_bytes(data: bytes, filepath) -> None:
    """:func:`atomic_write` of ``data``."""
    atomic_write(filepath, lambda f: f.write(data))


def _fsync_dir(folder: str) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be
    opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
