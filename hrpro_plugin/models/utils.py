"""Small batching helpers shared by the model parts (no framework state)."""
from typing import Sequence

import torch


def lengths_to_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """``[B]`` lengths -> ``[B, max_len]`` bool mask, True on valid snippets."""
    steps = torch.arange(max_len, device=lengths.device)
    return steps[None, :] < lengths[:, None]


def batch_lengths(data_samples: Sequence, device=None) -> torch.Tensor:
    """Number of snippets of each video of a batch, as a ``[B]`` long tensor."""
    return torch.tensor([int(ds.metainfo['num_snippets']) for ds in data_samples],
                        dtype=torch.long, device=device)


def batch_point_labels(data_samples: Sequence, num_snippets: int,
                       num_classes: int, device=None) -> torch.Tensor:
    """Dense point labels ``[B, T, C]`` (1 where a point of class c lies in
    snippet t; several points and classes may share a snippet).

    Each sample carries ``gt_points.snippets`` and ``gt_points.labels``; the
    points of all videos are concatenated with their batch index and
    scattered in one call.
    """
    snippets, labels, batch = [], [], []
    for i, ds in enumerate(data_samples):
        pts = ds.gt_points
        snippets.append(pts.snippets.reshape(-1).long())
        labels.append(pts.labels.reshape(-1).long())
        batch.append(torch.full_like(snippets[-1], i))
    out = torch.zeros(len(data_samples), num_snippets, num_classes,
                      device=device)
    if snippets:
        s = torch.cat(snippets).to(device)
        c = torch.cat(labels).to(device)
        b = torch.cat(batch).to(device)
        out[b, s, c] = 1.0
    return out


def batch_video_labels(data_samples: Sequence, device=None) -> torch.Tensor:
    """Video-level multi-hot labels ``[B, C]``."""
    return torch.stack([ds.gt_video_label.float() for ds in data_samples]).to(device)
