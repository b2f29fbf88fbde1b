"""The two-stage train loop: stage-1 iterations, the switch, stage-2 epochs."""
import copy
import logging
import os.path as osp
from typing import Dict, Optional, Union

from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop
from torch.utils.data import DataLoader

from mmaction.registry import LOOPS
from ..config_checks import check_two_stage_setup
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
    exists after the switch, hence this loop. The global iteration counter
    runs through both stages, so ``--resume`` works from any checkpoint:
    before the switch it continues stage 1; at or after it, the mining file
    in the work dir is reused (never mined twice) and stage 2 continues at
    the right epoch and batch.

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
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 stage1_iters: int,
                 stage2_dataloader: Optional[Union[DataLoader, Dict]] = None,
                 stage2_epochs: int = 0,
                 proposal_file: Optional[str] = None) -> None:
        check_two_stage_setup(runner, dataloader, stage1_iters,
                              stage2_epochs, stage2_dataloader)
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
                         val_begin=10**9, val_interval=10**9)

    def run(self):
        runner = self.runner
        runner.call_hook('before_train')
        runner.call_hook('before_train_epoch')
        if self._iter < self.stage1_iters:
            self._run_stage1()
        if self.stage2_epochs > 0 and not self.stop_training:
            self._switch()
            self._run_stage2()
        runner.call_hook('after_train_epoch')
        runner.call_hook('after_train')
        return runner.model

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

    def _run_stage2(self):
        loader = self.stage2_dataloader
        per_epoch = len(loader)
        done = self._iter - self.stage1_iters
        first_epoch, offset = divmod(done, per_epoch)
        if done > 0:
            print_log(f'resuming stage 2 at epoch {first_epoch + 1}, batch '
                      f'{offset}', logger='current', level=logging.WARNING)
        for epoch in range(first_epoch, self.stage2_epochs):
            self._epoch = epoch
            sampler = getattr(loader, 'sampler', None)
            if hasattr(sampler, 'set_epoch'):
                sampler.set_epoch(epoch)
            batch_sampler = getattr(loader, 'batch_sampler', None)
            if hasattr(batch_sampler, 'set_epoch'):
                batch_sampler.set_epoch(epoch)
            for i, data_batch in enumerate(loader):
                if epoch == first_epoch and i < offset:
                    continue
                if self.stop_training:
                    return
                self.runner.model.train()
                self.run_iter(data_batch)
        self._epoch = self.stage2_epochs
        self._save(FINAL_CKPT)

    def _save(self, filename: str):
        # meta iter = iterations done (the stock hook saves iter + 1 from
        # inside the iteration; here we are between iterations).
        self.runner.save_checkpoint(
            self.runner.work_dir, filename,
            meta=dict(iter=self._iter, epoch=self._epoch),
            by_epoch=False)
        print_log(f'saved {osp.join(self.runner.work_dir, filename)}',
                  logger='current')
