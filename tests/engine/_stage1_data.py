"""A small HR-Pro model and an in-memory packed dataset for the tests of
the hooks that run the stage-1 pass over a training set."""
import numpy as np
import torch
from mmengine.structures import InstanceData

import hrpro_plugin  # noqa: F401
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

C, D = 3, 16
# (length, ((snippet, class), ...)) of each video; every class has points
VIDEOS = ((30, ((3, 0), (20, 1))), (17, ((6, 2),)), (25, ((2, 1), (12, 0),
                                                          (13, 2))))


def small_model(prototypes=True):
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='HRPro', feat_dim=D, num_classes=C,
        neck=dict(type='RABNeck', num_heads=4),
        head=dict(type='SnippetHead'),
        instance_head=dict(type='InstanceHead', hidden_score=(32, 16),
                           hidden_reg=16),
        instance_loss=dict(type='InstanceLoss')))
    if prototypes:
        model.memory.prototypes.copy_(
            torch.randn(C, D, generator=torch.Generator().manual_seed(3)))
        model.memory.initialized.fill_(True)
    return model.eval()


class PackedDataset:
    """What ``PointTALDataset`` gives after ``PackPointTALInputs``."""

    def __init__(self, videos=VIDEOS, seed=1):
        g = torch.Generator().manual_seed(seed)
        self.items = []
        for i, (T, pts) in enumerate(videos):
            ds = ActionDataSample()
            ds.set_metainfo(dict(video_name=f'v{i}', num_snippets=T,
                                 snippet_seconds=0.5, duration=T * 0.5))
            ds.gt_instances = InstanceData(
                segments=torch.tensor([[0.5, 2.0]]), labels=torch.tensor([0]))
            ds.gt_points = InstanceData(
                snippets=torch.tensor([p[0] for p in pts]),
                labels=torch.tensor([p[1] for p in pts]))
            label = torch.zeros(C)
            label[[p[1] for p in pts]] = 1
            ds.set_field(label, 'gt_video_label')
            self.items.append(dict(inputs=torch.randn(T, D, generator=g),
                                   data_samples=ds))
        self.infos = [dict(video_name=f'v{i}', num_snippets=T,
                           point_snippets=np.array([p[0] for p in pts]),
                           point_labels=np.array([p[1] for p in pts]))
                      for i, (T, pts) in enumerate(videos)]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]

    def get_data_info(self, i):
        return self.infos[i]
