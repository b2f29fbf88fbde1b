"""The per-video candidate cap of inference (HRPro test_cfg.max_candidates)."""
import pytest
import torch

from hrpro_plugin.models.proposals.candidates import (cap_candidates,
                                                      top_per_video)


def test_top_per_video_known_answer():
    batch = torch.tensor([0, 0, 0, 1, 1, 0, 1])
    score = torch.tensor([0.1, 0.9, 0.5, 0.3, 0.3, 0.7, 0.8])
    # video 0: 0.9 (1), 0.7 (5); video 1: 0.8 (6), then the tie 0.3: index 3
    assert top_per_video(batch, score, 2).tolist() == [1, 3, 5, 6]
    assert top_per_video(batch, score, 10).tolist() == list(range(7))
    assert top_per_video(batch[:0], score[:0], 3).numel() == 0


def test_cap_keeps_every_field_aligned_and_none_keeps_all():
    cand = dict(batch_idx=torch.tensor([0, 0, 1]),
                start=torch.tensor([0., 1., 2.]),
                end=torch.tensor([1., 2., 3.]),
                label=torch.tensor([4, 5, 6]),
                score=torch.tensor([0.2, 0.6, 0.1]))
    capped = cap_candidates(cand, 1)
    assert capped['start'].tolist() == [1., 2.]
    assert capped['label'].tolist() == [5, 6]
    assert cap_candidates(cand, None) is cand


@pytest.mark.parametrize('bad', [0, -3, 2.5, True])
def test_model_refuses_a_bad_cap(bad):
    from hrpro_plugin.models import HRPro
    with pytest.raises(ValueError, match='max_candidates must be a positive'):
        HRPro(feat_dim=8, num_classes=2, test_cfg=dict(max_candidates=bad))
    with pytest.raises(ValueError, match="unknown key"):
        HRPro(feat_dim=8, num_classes=2, test_cfg=dict(top_k=3))
