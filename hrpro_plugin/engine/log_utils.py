"""Console hygiene for training runs: fewer startup lines, the lr of what
trains, short progress lines in log files."""
import logging
import sys
import time
from mmengine.logging import print_log

# messages MMEngine logs at INFO that drown the first screen of a run: one
# line per parameter matched by paramwise_cfg.custom_keys, and the hook
# table. They are kept at DEBUG (log_level='DEBUG' shows them).
_DEMOTED_PREFIXES = ('paramwise_options -- ',
                     'Hooks will be executed in the following order')


class DemoteNoise(logging.Filter):
    """Rewrite the records above to DEBUG; handlers at INFO then drop them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO:
            msg = record.msg if isinstance(record.msg, str) else ''
            if msg.startswith(_DEMOTED_PREFIXES):
                record.levelno, record.levelname = logging.DEBUG, 'DEBUG'
        return True


def quiet_logger(logger: logging.Logger) -> logging.Logger:
    """Install :class:`DemoteNoise` on ``logger`` (once). A record meets
    each handler's level after the logger's filters ran, so the demoted
    level is what the handlers see."""
    if not any(isinstance(f, DemoteNoise) for f in logger.filters):
        logger.addFilter(DemoteNoise())
    return logger


def quiet_runner_logs(runner) -> None:
    logger = getattr(runner, 'logger', None)
    if isinstance(logger, logging.Logger):
        quiet_logger(logger)


def _trained_groups(model, optim):
    """``[(group index, module name)]``: the first param group of each
    distinct lr among the groups holding parameters that train now."""
    names = {id(p): name.split('.', 1)[0]
             for name, p in model.named_parameters()}
    wanted = {id(p) for m in model.trainable_modules() for p in m.parameters()
              if p.requires_grad}
    groups, seen = [], set()
    for i, group in enumerate(optim.param_groups):
        ids = [id(p) for p in group['params'] if id(p) in wanted]
        if ids and float(group['lr']) not in seen:
            seen.add(float(group['lr']))
            groups.append((i, names.get(ids[0], 'group')))
    return groups


def log_trained_lrs(runner) -> None:
    """Log the lr of the parameters that train in the current stage.

    MMEngine's ``RuntimeInfoHook`` logs ``lr`` of the optimizer's first
    param group, which in stage 2 belongs to the frozen stage-1 network.
    Here ``lr`` is the lr of the first group that trains now (the model's
    ``trainable_modules()``), and every other lr among the trained groups
    is logged as ``lr_<module>`` (e.g. ``lr_instance_head``). Which groups
    those are is worked out once per stage, not every iteration.
    """
    from ..engine.utils import unwrap
    model = unwrap(runner.model)
    optim = getattr(runner.optim_wrapper, 'optimizer', None)
    if not hasattr(model, 'trainable_modules') or optim is None:
        return
    key = (id(optim), getattr(model, 'current_stage', None))
    cached = getattr(runner, '_hrpro_trained_groups', None)
    if cached is None or cached[0] != key:
        cached = (key, _trained_groups(model, optim))
        runner._hrpro_trained_groups = cached
    groups = cached[1]
    if not groups:
        return
    hub = runner.message_hub
    hub.update_scalar('train/lr', float(optim.param_groups[groups[0][0]]['lr']))
    for i, name in groups[1:]:
        hub.update_scalar(f'train/lr_{name}', float(optim.param_groups[i]['lr']))


class Progress:
    """Progress over ``total`` items: MMEngine's bar on a terminal; in a log
    file (stdout not a terminal) one short line at every 10 % instead of a
    bar that becomes one line of thousands of characters."""

    def __init__(self, total: int, task: str, stream=None):
        self.total, self.task, self.done = int(total), task, 0
        self.stream = stream or sys.stdout
        self.tty = bool(getattr(self.stream, 'isatty', lambda: False)())
        self.start = time.time()
        self._next = 0.1
        self.bar = None
        if self.tty:
            from mmengine.utils import ProgressBar
            print(f'\n{task}', file=self.stream, flush=True)
            self.bar = ProgressBar(self.total, file=self.stream)
        else:
            print_log(f'{task}: {self.total} videos', logger='current')

    def update(self, n: int = 1) -> None:
        for _ in range(n):
            self.done += 1
            if self.bar is not None:
                self.bar.update()
        if self.bar is None and self.total and (
                self.done / self.total >= self._next - 1e-9
                or self.done == self.total):
            while self._next <= self.done / self.total + 1e-9:
                self._next += 0.1
            print_log(f'{self.task}: {self.done}/{self.total} '
                      f'({time.time() - self.start:.1f} s)', logger='current')

    def close(self) -> None:
        if self.bar is not None:
            print('', file=self.stream, flush=True)

