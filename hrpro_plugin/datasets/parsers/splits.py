"""Split files (``split_*.txt``): one video name a line, each video once."""
from typing import Dict, List

from .errors import DataError
from .text_files import read_text, text_lines

__all__ = ['load_split']


def load_split(path: str) -> List[str]:
    """Video names of a split file, one a line (blank lines ignored).

    Raises on a missing, empty or non-UTF-8 file and on a name listed twice.
    """
    text = read_text(path, 'split file')
    names: List[str] = []
    first_line: Dict[str, int] = {}
    for lineno, line in enumerate(text_lines(text), 1):
        name = line.strip()
        if not name:
            continue
        if name in first_line:
            raise DataError(
                f'{path}: line {lineno}: video {name!r} is listed twice '
                f'(first on line {first_line[name]}); a split file lists '
                'each video once')
        first_line[name] = lineno
        names.append(name)
    if not names:
        raise DataError(f'{path}: split file is empty (expected one video '
                        'name a line)')
    return names
