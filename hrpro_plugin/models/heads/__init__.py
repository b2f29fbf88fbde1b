from .instance_head import InstanceHead
from .snippet_head import SnippetHead

__all__ = ['SnippetHead', 'InstanceHead']
