"""Batches the per-video mined proposals of a stage-2 batch."""
from typing import Dict, Sequence

import torch

from ...fileio.proposal_file import concat_mined


def gather_mined_proposals(data_samples: Sequence, device=None
                           ) -> Dict[str, Dict[str, torch.Tensor]]:
    """``dict(pp=, rp=, np=)`` flat column tensors with ``batch_idx`` = the
    video's position in the batch (one slice per video, concatenated once)."""
    parts = []
    for ds in data_samples:
        mined = ds.metainfo.get('mined_proposals')
        if mined is None:
            raise ValueError(
                f'video {ds.metainfo.get("video_name")} has no mined '
                'proposals: the stage-2 pipeline needs LoadMinedProposals')
        one = {}
        for name, cols in mined.items():
            n = cols['start'].numel()
            # concat_mined offsets batch_idx by the videos before this one
            one[name] = dict(cols, batch_idx=torch.zeros(n, dtype=torch.long))
        parts.append((one, 1))
    out = concat_mined(parts)
    if device is not None:
        out = {s: {k: v.to(device) for k, v in c.items()}
               for s, c in out.items()}
    return out
