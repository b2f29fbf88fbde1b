"""Checks of a two-stage training setup, run when the train loop is built
(before the prototype initialisation and the first iteration), so that a
config mistake costs seconds, not a trained stage 1."""
from numbers import Number
from typing import Optional


class ConfigError(ValueError):
    """A config key is missing or wrong; the message names the key and the
    fix."""


def _count_hooks(runner, name: str) -> int:
    return sum(type(h).__name__ == name for h in getattr(runner, 'hooks', []))


def _batch_size(loader) -> Optional[int]:
    if isinstance(loader, dict):
        bs = loader.get('batch_size')
        if bs is None and isinstance(loader.get('batch_sampler'), dict):
            bs = loader['batch_sampler'].get('batch_size')
        return bs
    return getattr(loader, 'batch_size', None)


def check_two_stage_setup(runner, dataloader, stage1_iters, stage2_epochs,
                          stage2_dataloader) -> None:
    """Raise :class:`ConfigError` on the first problem found.

    Checks: ``train_cfg.stage1_iters`` and ``train_cfg.stage2_epochs`` are
    non-negative integers, not both 0; batch sizes are positive integers;
    ``train_cfg.stage2_dataloader`` is given (and not empty) when
    ``stage2_epochs > 0``; exactly one ``ProposalMiningHook`` when stage 2
    runs and exactly one ``PrototypeInitHook`` when the model has a
    prototype memory (``custom_hooks``); the optimizer's ``lr`` is a number.
    """
    for key, value in (('stage1_iters', stage1_iters),
                       ('stage2_epochs', stage2_epochs)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f'train_cfg.{key} must be an integer >= 0, got '
                              f'{value!r}')
    if stage1_iters == 0 and stage2_epochs == 0:
        raise ConfigError('train_cfg.stage1_iters and train_cfg.stage2_epochs '
                          'are both 0: nothing to train')
    if stage2_epochs > 0 and (stage2_dataloader is None or
                              stage2_dataloader == {}):
        raise ConfigError(
            f'train_cfg.stage2_epochs={stage2_epochs} but '
            'train_cfg.stage2_dataloader is missing or empty: define it (see '
            'configs/_base_/datasets/thumos14.py, "stage2_dataloader") or set '
            'train_cfg.stage2_epochs=0 to train stage 1 only')
    for key, loader in (('train_dataloader', dataloader),
                        ('train_cfg.stage2_dataloader',
                         stage2_dataloader if stage2_epochs > 0 else None)):
        if loader is None:
            continue
        bs = _batch_size(loader)
        if bs is not None and (isinstance(bs, bool) or not isinstance(bs, int)
                               or bs <= 0):
            raise ConfigError(f'{key}.batch_size must be a positive integer, '
                              f'got {bs!r}')
    n_mining = _count_hooks(runner, 'ProposalMiningHook')
    if stage2_epochs > 0 and n_mining != 1:
        raise ConfigError(
            f'stage 2 needs exactly one ProposalMiningHook in custom_hooks, '
            f'found {n_mining}: add dict(type="ProposalMiningHook") once, or '
            'set train_cfg.stage2_epochs=0')
    model = getattr(runner.model, 'module', runner.model)
    n_init = _count_hooks(runner, 'PrototypeInitHook')
    if getattr(model, 'memory', None) is not None and n_init != 1:
        raise ConfigError(
            f'the model has a prototype memory, so custom_hooks needs exactly '
            f'one PrototypeInitHook, found {n_init}')
    optim = runner.optim_wrapper
    cfg = optim if isinstance(optim, dict) else None
    if cfg is not None:
        opt = cfg.get('optimizer') or {}
        lr = opt.get('lr') if isinstance(opt, dict) else None
        if lr is not None and (isinstance(lr, bool) or
                               not isinstance(lr, Number)):
            raise ConfigError(f'optim_wrapper.optimizer.lr must be a number, '
                              f'got {lr!r} ({type(lr).__name__})')


def check_val_setup(val_interval, val_begin, stage2_val_interval,
                    stage2_val_begin) -> None:
    """``train_cfg`` validation keys: positive integers (``val_interval``
    may be ``None``: validate at the end of stage 1 only)."""
    for key, value, optional in (
            ('val_interval', val_interval, True),
            ('val_begin', val_begin, False),
            ('stage2_val_interval', stage2_val_interval, False),
            ('stage2_val_begin', stage2_val_begin, False)):
        if value is None and optional:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(
                f'train_cfg.{key} must be a positive integer, got {value!r}'
                + (' (None: validate at the end of stage 1 only)'
                   if optional else ''))
