"""Mines PP / RP / NP with the trained stage-1 model at the stage switch."""
import hashlib
import os
import os.path as osp

import numpy as np

import torch
from mmengine.dist import barrier, is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmaction.registry import HOOKS
from ..utils import iterate_dataset, unwrap
from ...fileio.proposal_file import (ProposalFileError, concat_mined,
                                     load_proposals, make_proposal_data,
                                     save_proposals)
from ...models.instance_level.mining import mine_proposals


@HOOKS.register_module()
class ProposalMiningHook(Hook):
    """At the switch (``before_stage2``), run the frozen stage-1 model over
    the training videos in a fixed order and store PP, RP and NP (docs/method.md,
    "Stage 2") in one file under the work dir
    (:mod:`hrpro_plugin.fileio.proposal_file` documents it).

    - Only the main process mines and writes; the others wait and then read
      the same file through ``LoadMinedProposals``.
    - A file that already holds the mining of this run is reused, so a
      resumed run never mines twice. "This run" means: the same stage-1
      weights (a fingerprint of the stage-1 parameters and buffers), the
      same training videos with the same lengths and points (a fingerprint
      of the dataset), and the same seed, ``np_ratio``, ``rp_mode`` and
      proposal settings. Any other file is mined again, with a warning
      that says what differed. Mining twice with the same checkpoint and seed gives the same
      file (the NP sampler draws from one seeded CPU generator).
    - Test and inference never read the file.

    Args:
        batch_size (int): videos per forward pass. Defaults to 16.
        seed (int | None): NP sampler seed; ``None`` uses the run's seed.
        np_ratio (float): NP per video = ``int(np_ratio x #PP)`` (default 0.5;
            0 is the "without NP" ablation).
        rp_mode (str): ``'reliable'`` (the method) or ``'all_containing'`` (the
            "without RP" ablation, see ``mining.mine_proposals``).
    """

    priority = 'NORMAL'

    def __init__(self, batch_size: int = 16, seed=None,
                 np_ratio: float = 0.5, rp_mode: str = 'reliable'):
        self.batch_size = batch_size
        self.seed = seed
        self.np_ratio = float(np_ratio)
        self.rp_mode = rp_mode

    @staticmethod
    def weights_fingerprint(model) -> str:
        """SHA-1 of the stage-1 state (every entry but the instance head)."""
        h = hashlib.sha1()
        for key, value in sorted(model.state_dict().items()):
            if key.startswith('instance_head.'):
                continue
            h.update(key.encode())
            t = value.detach().cpu().contiguous()
            h.update(str(t.dtype).encode() + str(tuple(t.shape)).encode())
            h.update(t.view(-1).view(torch.uint8).numpy().tobytes()
                     if t.numel() else b'')
        return h.hexdigest()

    @staticmethod
    def dataset_fingerprint(dataset) -> str:
        """SHA-1 of the training videos: names, lengths, points."""
        h = hashlib.sha1()
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            h.update(str(info['video_name']).encode() + b'\0')
            h.update(str(int(info['num_snippets'])).encode() + b'\0')
            for key in ('point_snippets', 'point_labels', 'point_positions'):
                v = info.get(key)
                if v is not None:
                    h.update(np.ascontiguousarray(v).tobytes())
        return h.hexdigest()

    def _stamp(self, runner, dataset) -> dict:
        seed = self.seed if self.seed is not None else (runner.seed or 0)
        model = unwrap(runner.model)
        return dict(seed=int(seed),
                    checkpoint=f'{runner.experiment_name}@iter'
                    f'{runner.train_loop.stage1_iters}',
                    stage1_iters=int(runner.train_loop.stage1_iters),
                    num_videos=len(dataset), np_ratio=self.np_ratio,
                    rp_mode=self.rp_mode,
                    weights=self.weights_fingerprint(model),
                    videos=self.dataset_fingerprint(dataset),
                    proposal_cfg=repr(sorted(
                        dict(getattr(model, 'proposal_cfg', {})).items())))

    def before_stage2(self, runner, proposal_file: str) -> None:
        dataset = runner.train_dataloader.dataset
        stamp = self._stamp(runner, dataset)
        if is_main_process():
            if self._reusable(proposal_file, stamp, dataset):
                print_log(f'reusing mined proposals {proposal_file} '
                          '(not mining again)', logger='current')
            else:
                self.mine(unwrap(runner.model), dataset, proposal_file, stamp)
        barrier()

    @staticmethod
    def _reusable(path: str, stamp: dict, dataset) -> bool:
        if not osp.isfile(path):
            return False
        try:
            data = load_proposals(path)
        except ProposalFileError as err:
            print_log(f'{path} is unreadable ({err}); mining again',
                      logger='current', level=30)
            return False
        meta = dict(data.get('meta') or {})
        meta['seed'] = data.get('seed')
        keys = ('weights', 'videos', 'seed', 'np_ratio', 'rp_mode',
                'proposal_cfg', 'stage1_iters')
        differ = [k for k in keys if meta.get(k) != stamp[k]]
        if differ:
            what = {'weights': 'the stage-1 weights',
                    'videos': 'the training videos or their points',
                    'seed': 'the seed', 'np_ratio': 'np_ratio',
                    'rp_mode': 'rp_mode', 'proposal_cfg': 'proposal_cfg',
                    'stage1_iters': 'stage1_iters'}
            print_log(f'{path} was mined from other inputs '
                      f'({", ".join(what[k] for k in differ)} differ); '
                      'mining again', logger='current', level=30)
            return False
        return True

    def mine(self, model, dataset, path: str, stamp: dict) -> dict:
        was_training = model.training
        model.eval()
        generator = torch.Generator(device='cpu')
        generator.manual_seed(stamp['seed'])
        parts, names, lengths = [], [], []
        with torch.no_grad():
            for data in iterate_dataset(dataset, self.batch_size, shard=False,
                                        progress='mining proposals'):
                data = model.data_preprocessor(data, False)
                inputs, samples = data['inputs'], data['data_samples']
                sp = model.snippet_pass(inputs, samples, pseudo=True,
                                        candidates=True)
                mined = mine_proposals(
                    sp.candidates, [ds.gt_points for ds in samples],
                    sp.bg_seeds, sp.mask, generator=generator,
                    np_ratio=self.np_ratio, rp_mode=self.rp_mode)
                parts.append((mined, len(samples)))
                names += [ds.metainfo['video_name'] for ds in samples]
                lengths += [int(ds.metainfo['num_snippets']) for ds in samples]
        model.train(was_training)
        data = make_proposal_data(
            names, concat_mined(parts), seed=stamp['seed'],
            checkpoint=stamp['checkpoint'], num_snippets=lengths,
            meta=dict(stage1_iters=stamp['stage1_iters'],
                      np_ratio=stamp['np_ratio'], rp_mode=stamp['rp_mode'],
                      weights=stamp['weights'], videos=stamp['videos'],
                      proposal_cfg=stamp['proposal_cfg']))
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        save_proposals(path, data)
        n_pts = sum(len(dataset.get_data_info(i)['point_snippets'])
                    for i in range(len(dataset)))
        print_log(
            f'mined {data["pp"]["start"].numel()} PP, '
            f'{data["rp"]["start"].numel()} RP (of {n_pts} points), '
            f'{data["np"]["start"].numel()} NP over {len(names)} videos '
            f'-> {path}', logger='current')
        return data
