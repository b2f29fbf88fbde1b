"""Finding and reading the dataset's text files: paths relative to the data
root, UTF-8 decoding (a byte-order mark accepted, other bytes refused with
their offset and line) and editor line numbers."""
import os.path as osp
from typing import List, Optional

from .errors import DataError, MissingFileError

__all__ = ['resolve_path', 'require_file', 'read_text', 'text_lines']


def resolve_path(data_root: Optional[str], path: str) -> str:
    """``path`` if absolute (or no ``data_root``), else ``data_root/path``."""
    path = osp.expanduser(str(path))
    if osp.isabs(path) or not data_root:
        return path
    return osp.join(osp.expanduser(str(data_root)), path)


def require_file(path: str, what: str) -> None:
    """Raise :class:`MissingFileError` (``<path>: <what> not found``) if
    ``path`` is not a file."""
    if not osp.isfile(path):
        raise MissingFileError(f'{path}: {what} not found')


def read_text(path: str, what: str = 'file') -> str:
    """The text of a UTF-8 file (a leading byte-order mark is dropped).

    Raises :class:`MissingFileError` if there is no such file and
    :class:`DataError` naming the byte offset and line of the first byte that
    is not UTF-8.
    """
    require_file(path, what)
    with open(path, 'rb') as f:
        raw = f.read()
    try:
        return raw.decode('utf-8-sig')
    except UnicodeDecodeError as e:
        line = raw.count(b'\n', 0, e.start) + 1
        hint = ''
        if raw[:2] in (b'\xff\xfe', b'\xfe\xff'):
            hint = ' (it starts with a UTF-16 byte-order mark)'
        raise DataError(
            f'{path}: {what} is not UTF-8 text: byte 0x{raw[e.start]:02x} at '
            f'byte offset {e.start} (line {line}) is not valid UTF-8{hint}; '
            'save the file as UTF-8') from None


def text_lines(text: str) -> List[str]:
    """Lines split at ``\\n`` only (``\\r`` dropped), so that line numbers are
    those of an editor."""
    return [ln[:-1] if ln.endswith('\r') else ln for ln in text.split('\n')]
