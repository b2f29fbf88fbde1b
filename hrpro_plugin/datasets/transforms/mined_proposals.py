"""Attaches the proposals mined at the stage switch to a packed sample."""
import os.path as osp
from typing import Dict, Optional

from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS

from ...fileio.proposal_file import load_proposals, proposals_for_video


@TRANSFORMS.register_module()
class LoadMinedProposals(BaseTransform):
    """Stage-2 transform: put the video's PP / RP / NP (snippet units) from
    the mining file on its data sample as ``mined_proposals``
    (``dict(pp=..., rp=..., np=...)`` of column tensors, see
    :mod:`hrpro_plugin.fileio.proposal_file`).

    Goes after :class:`PackPointTALInputs`. The file is read once per process
    and kept in memory. ``proposal_file=None`` is filled by
    :class:`TwoStageTrainLoop` with ``<work_dir>/mined_proposals.pt``.
    """

    _cache: Dict[str, dict] = {}

    def __init__(self, proposal_file: Optional[str] = None):
        self.proposal_file = proposal_file

    def _data(self) -> dict:
        path = self.proposal_file
        if path is None:
            raise ValueError('LoadMinedProposals has no proposal_file: use it '
                             'inside TwoStageTrainLoop or name the file')
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'mined proposal file {path} does not exist: it is written '
                'by ProposalMiningHook at the stage switch')
        stamp = (path, osp.getmtime(path))
        cached = self._cache.get(path)
        if cached is None or cached[0] != stamp:
            self._cache[path] = (stamp, load_proposals(path))
        return self._cache[path][1]

    def transform(self, results: dict) -> dict:
        sample = results['data_samples']
        name = sample.metainfo['video_name']
        sample.set_field(proposals_for_video(self._data(), name),
                         'mined_proposals', field_type='metainfo')
        return results
