"""Flat detections of a batch -> ``pred_instances`` of each data sample."""
from typing import List, Sequence

import torch
from mmengine.structures import InstanceData


def pack_predictions(data_samples: Sequence, segments: torch.Tensor,
                     labels: torch.Tensor, scores: torch.Tensor,
                     batch_idx: torch.Tensor,
                     video_scores: torch.Tensor) -> List:
    """Split flat predictions per video and convert snippets -> seconds
    (the one place where units change)."""
    counts = torch.bincount(batch_idx, minlength=len(data_samples))
    sec = torch.tensor(
        [float(ds.metainfo['snippet_seconds']) for ds in data_samples],
        device=segments.device)
    segments = segments * sec[batch_idx][:, None]
    per_video = zip(segments.split(counts.tolist()),
                    labels.split(counts.tolist()),
                    scores.split(counts.tolist()))
    for i, (ds, (seg, lab, sco)) in enumerate(zip(data_samples, per_video)):
        duration = ds.metainfo.get('duration')
        if duration is not None:
            # The snippet grid may run past the video's end (the last
            # snippet is partial): cut ends at the duration, except for a
            # segment lying wholly in that last partial snippet, which
            # would become empty.
            end = seg[:, 1]
            seg = torch.stack(
                [seg[:, 0], torch.where(seg[:, 0] < float(duration),
                                        end.clamp(max=float(duration)),
                                        end)], dim=-1)
        ds.pred_instances = InstanceData(
            segments=seg.detach(), labels=lab.detach(),
            scores=sco.detach())
        ds.set_field(video_scores[i].detach(), 'pred_video_scores')
    return list(data_samples)
