"""The errors of the dataset files and the small helpers that word them.

:class:`DataError` is what every parser of this package raises for an
invalid or inconsistent file; :class:`MissingFileError` is both a
``DataError`` and a ``FileNotFoundError``.
"""
import difflib
import numbers

__all__ = [
    'DataError', 'MissingFileError', 'key_list', 'misspelt_hint',
    'is_number', 'one_line'
]


class DataError(ValueError):
    """Invalid or inconsistent dataset files (annotations, points, splits,
    features). The message names the file, the video or CSV row, and what is
    wrong."""


class MissingFileError(DataError, FileNotFoundError):
    """A file the dataset needs does not exist."""


def key_list(d: dict) -> str:
    """The keys of ``d`` for a message: ``'a', 'b'`` (``none`` if empty)."""
    return ', '.join(repr(str(k)) for k in d) or 'none'


def misspelt_hint(wanted: str, d: dict) -> str:
    """``"; is 'x' misspelt?"`` naming the key of ``d`` closest to
    ``wanted``, or ``''`` when none is close."""
    close = difflib.get_close_matches(wanted, [str(k) for k in d], n=1,
                                      cutoff=0.6)
    return f'; is {close[0]!r} misspelt?' if close else ''


def is_number(x) -> bool:
    """A real number, not a boolean (``True`` is an ``int`` in Python)."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def one_line(err: Exception) -> str:
    """The message of ``err`` on one line (runs of whitespace collapsed)."""
    return ' '.join(str(err).split())
