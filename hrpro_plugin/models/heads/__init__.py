from .snippet_head import SnippetHead

__all__ = ['SnippetHead']
