"""The small HRPro that the localizer tests build (C = 3 classes, D = 16)."""
import torch

import hrpro_plugin  # noqa: F401
from mmaction.registry import MODELS

C, D = 3, 16


def tiny_hrpro(prototypes: str = 'seeded', **kw):
    """HRPro with a 4-head RAB neck, the snippet head and a small instance
    head, built under ``torch.manual_seed(0)``; its memory marked
    initialized. ``prototypes``: ``'seeded'`` (``randn`` from a generator
    seeded 3, independent of the global RNG) or ``'normal'`` (``normal_()``
    from the global RNG, right after the build). ``kw`` update the config."""
    torch.manual_seed(0)
    cfg = dict(type='HRPro', feat_dim=D, num_classes=C,
               neck=dict(type='RABNeck', num_heads=4),
               head=dict(type='SnippetHead'),
               instance_head=dict(type='InstanceHead', hidden_score=(32, 16),
                                  hidden_reg=16),
               instance_loss=dict(type='InstanceLoss'))
    cfg.update(kw)
    model = MODELS.build(cfg)
    if prototypes == 'seeded':
        g = torch.Generator().manual_seed(3)
        model.memory.prototypes.copy_(torch.randn(C, D, generator=g))
    elif prototypes == 'normal':
        model.memory.prototypes.normal_()
    else:
        raise ValueError(f'prototypes: seeded or normal, got {prototypes!r}')
    model.memory.initialized.fill_(True)
    return model
