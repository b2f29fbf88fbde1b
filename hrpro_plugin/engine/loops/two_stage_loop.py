"""The two-stage train loop: stage-1 iterations, the switch, stage-2 epochs."""
import copy
import logging
import os.path as osp
from typing import Dict, Optional, Union

from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop
from torch.utils.data import DataLoader

from mmaction.registry import LOOPS
from ..config_checks import check_two_stage_setup, check_val_setup
from ..log_utils import log_trained_lrs, quiet_runner_logs
from ..utils import unwrap

STAGE1_CKPT = 'stage1.pth'
FINAL_CKPT = 'stage2.pth'
PROPOSAL_FILE = 'mined_proposals.pt'


def _fill_proposal_file(cfg, path: str):
    """Point every ``LoadMinedProposals`` of a dataloader config that names no
    file at ``path``."""
    if isinstance(cfg, dict):
        if cfg.get('type') == 'LoadMinedProposals' and \
                cfg.get('proposal_file') is None:
            cfg['proposal_file'] = path
        for value in cfg.values():
            _fill_proposal_file(value, path)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            _fill_proposal_file(value, path)


@LOOPS.register_module()
class TwoStageTrainLoop(IterBasedTrainLoop):
    """Stage-1 iterations on ``dataloader``, then the switch (freeze stage 1,
    mine proposals once), then ``stage2_epochs`` epochs on
    ``stage2_dataloader``.

    MMEngine's loops know one dataloader and one schedule; HR-Pro needs an
    iteration-based stage 1 and an epoch-based stage 2 over data that only
    exists after the switch, hence this loop. Each stage behaves as the
    MMEngine loop of its kind:

    - Stage 1 is an ``IterBasedTrainLoop``: ``before_train_epoch`` once,
      then ``before/after_train_iter`` with ``batch_idx`` = the global
      iteration. When stage 2 follows, stage 1 ends with the switch instead
      of ``after_train_epoch``, so epoch-based hooks and schedulers
      (``CheckpointHook(by_epoch=True)``, ``MultiStepLR(by_epoch=True)``)
      count stage-2 epochs only: epoch 1 is the first stage-2 epoch. A
      stage-1-only run (``stage2_epochs=0``) calls ``after_train_epoch``
      once at its end, as ``IterBasedTrainLoop`` does.
    - Stage 2 is an ``EpochBasedTrainLoop``: ``before_train_epoch`` and
      ``after_train_epoch`` around each epoch, ``batch_idx`` counted within
      the epoch, ``runner.epoch`` = stage-2 epochs done, log lines as
      ``Epoch(train) [k][i/n]``.
    - Iteration-based hooks and schedulers see one global iteration counter
      through both stages (``runner.iter``; ``max_iters`` = stage-1
      iterations + stage-2 epochs x batches an epoch).

    Validation (only where the config has ``val_dataloader``, ``val_cfg``
    and ``val_evaluator``; ``tools/train.py --no-validate`` removes them)
    runs MMEngine's ``ValLoop``: in stage 1 every ``val_interval``
    iterations from ``val_begin`` on and at the end of stage 1; in stage 2
    every ``stage2_val_interval`` epochs from ``stage2_val_begin`` on and
    after the last epoch. ``CheckpointHook(save_best=...)`` keeps the best
    of all of them (named by global iteration with ``by_epoch=False``).

    ``--resume`` works from any checkpoint: before the switch it continues
    stage 1; at or after it, the mining file in the work dir is reused
    (never mined twice) and stage 2 continues at the right epoch and batch.

    Hooks: ``before_stage2(runner, proposal_file=...)`` is called at the
    switch (:class:`ProposalMiningHook` implements it). Checkpoints
    ``stage1.pth`` and ``stage2.pth`` are written at the end of each stage.

    Args:
        stage1_iters (int): stage-1 iterations.
        stage2_dataloader (dict | DataLoader | None): stage-2 data; ``None``
            with ``stage2_epochs=0`` trains stage 1 only.
        stage2_epochs (int): stage-2 epochs.
        proposal_file (str | None): where the mining output goes; default
            ``<work_dir>/mined_proposals.pt``.
        val_interval (int | None): stage-1 iterations between validations;
            ``None``: only at the end of stage 1.
        val_begin (int): first stage-1 iteration that may validate.
        stage2_val_interval (int): stage-2 epochs between validations.
        stage2_val_begin (int): first stage-2 epoch that may validate.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 stage1_iters: int,
                 stage2_dataloader: Optional[Union[DataLoader, Dict]] = None,
                 stage2_epochs: int = 0,
                 proposal_file: Optional[str] = None,
                 val_interval: Optional[int] = None,
                 val_begin: int = 1,
                 stage2_val_interval: int = 1,
                 stage2_val_begin: int = 1) -> None:
        check_two_stage_setup(runner, dataloader, stage1_iters,
                              stage2_epochs, stage2_dataloader)
        check_val_setup(val_interval, val_begin, stage2_val_interval,
                        stage2_val_begin)
        # the loop is built before the optimizer: silence its per-parameter
        # log lines from here on
        quiet_runner_logs(runner)
        self.stage1_iters = int(stage1_iters)
        self.stage2_epochs = int(stage2_epochs)
        self.proposal_file = proposal_file or osp.join(runner.work_dir,
                                                       PROPOSAL_FILE)
        self.stage2_dataloader = None
        stage2_iters = 0
        if self.stage2_epochs > 0:
            if isinstance(stage2_dataloader, dict):
                stage2_dataloader = copy.deepcopy(stage2_dataloader)
                _fill_proposal_file(stage2_dataloader, self.proposal_file)
                stage2_dataloader = runner.build_dataloader(
                    stage2_dataloader, seed=runner.seed)
            self.stage2_dataloader = stage2_dataloader
            stage2_iters = self.stage2_epochs * len(stage2_dataloader)
        super().__init__(runner, dataloader,
                         max_iters=self.stage1_iters + stage2_iters,
                         val_begin=int(val_begin),
                         val_interval=int(val_interval or
                                          max(self.stage1_iters, 1)))
        self._max_epochs = max(self.stage2_epochs, 1)
        self.stage2_val_interval = int(stage2_val_interval)
        self.stage2_val_begin = int(stage2_val_begin)

    # ------------------------------------------------------------------
    def run(self):
        runner = self.runner
        runner.call_hook('before_train')
        if self._iter < self.stage1_iters:
            runner.call_hook('before_train_epoch')
            self._run_stage1()
            if self.stage2_epochs == 0:
                runner.call_hook('after_train_epoch')
        if self.stage2_epochs > 0 and not self.stop_training:
            self._switch()
            self._run_stage2()
        runner.call_hook('after_train')
        return runner.model

    def _validate(self):
        if self.runner.val_loop is not None:
            self.runner.val_loop.run()

    def _run_stage1(self):
        if self._iter > 0:
            print_log(f'resuming stage 1 at iteration {self._iter}: skipping '
                      f'{self._iter} batches already trained',
                      logger='current', level=logging.WARNING)
            for _ in range(self._iter):
                next(self.dataloader_iterator)
        while self._iter < self.stage1_iters and not self.stop_training:
            self.runner.model.train()
            self.run_iter(next(self.dataloader_iterator))
            if self._iter >= self.val_begin and (
                    self._iter % self.val_interval == 0
                    or self._iter == self.stage1_iters):
                self._validate()
        self._save(STAGE1_CKPT)

    def _switch(self):
        model = unwrap(self.runner.model)
        model.switch_to_stage2()
        # stage-1 losses stop at the switch: drop their history so the
        # stage-2 log lines do not repeat their last values
        scalars = self.runner.message_hub.log_scalars
        for key in [k for k in scalars if k.startswith('train/loss')]:
            scalars.pop(key)
        print_log('switching to stage 2: stage-1 network and memory frozen',
                  logger='current')
        self.runner.call_hook('before_stage2',
                              proposal_file=self.proposal_file)
        # from here on the runner's train dataloader is stage 2's, and log
        # lines read Epoch(train) [k][i/n] as in an epoch-based run
        self.dataloader = self.stage2_dataloader
        self.runner.log_processor.by_epoch = True

    def run_iter(self, data_batch, batch_idx: Optional[int] = None) -> None:
        """One training step; ``batch_idx`` defaults to the global iteration
        (stage 1) and is the index within the epoch in stage 2."""
        idx = self._iter if batch_idx is None else batch_idx
        self.runner.call_hook('before_train_iter', batch_idx=idx,
                              data_batch=data_batch)
        log_trained_lrs(self.runner)
        outputs = self.runner.model.train_step(
            data_batch, optim_wrapper=self.runner.optim_wrapper)
        self.runner.call_hook('after_train_iter', batch_idx=idx,
                              data_batch=data_batch, outputs=outputs)
        self._iter += 1

    def _run_stage2(self):
        loader = self.stage2_dataloader
        per_epoch = len(loader)
        done = self._iter - self.stage1_iters
        first_epoch, offset = divmod(done, per_epoch)
        if done > 0:
            print_log(f'resuming stage 2 at epoch {first_epoch + 1}, batch '
                      f'{offset}', logger='current', level=logging.WARNING)
        for epoch in range(first_epoch, self.stage2_epochs):
            if self.stop_training:
                return
            self._epoch = epoch
            self._set_epoch(loader, epoch)
            print_log(f'stage 2: epoch {epoch + 1}/{self.stage2_epochs} '
                      f'({per_epoch} batches)', logger='current')
            self.runner.call_hook('before_train_epoch')
            for i, data_batch in enumerate(loader):
                if epoch == first_epoch and i < offset:
                    continue
                if self.stop_training:
                    return
                self.runner.model.train()
                self.run_iter(data_batch, batch_idx=i)
            self.runner.call_hook('after_train_epoch')
            self._epoch = epoch + 1
            if self._epoch >= self.stage2_val_begin and (
                    self._epoch % self.stage2_val_interval == 0
                    or self._epoch == self.stage2_epochs):
                self._validate()
        self._save(FINAL_CKPT)

    @staticmethod
    def _set_epoch(loader, epoch: int):
        for sampler in (getattr(loader, 'sampler', None),
                        getattr(loader, 'batch_sampler', None)):
            if hasattr(sampler, 'set_epoch'):
                sampler.set_epoch(epoch)

    def _save(self, filename: str):
        # meta iter = iterations done (the stock hook saves iter + 1 from
        # inside the iteration; here we are between iterations).
        self.runner.save_checkpoint(
            self.runner.work_dir, filename,
            meta=dict(iter=self._iter, epoch=self._epoch),
            by_epoch=False)
        print_log(f'saved {osp.join(self.runner.work_dir, filename)}',
                  logger='current')
