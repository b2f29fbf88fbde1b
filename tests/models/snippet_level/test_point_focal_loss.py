import math

import torch

from hrpro_plugin.models.snippet_level.point_focal_loss import PointFocalLoss


def _tiny():
    # B=1, T=4, C=2; channels: class 0, class 1, background
    scores = torch.tensor([[[0.5, 0.2, 0.1],     # point: classes 0 and 1
                            [0.9, 0.3, 0.4],     # point: class 0
                            [0.1, 0.2, 0.8],     # background seed
                            [0.6, 0.6, 0.6]]])   # unused
    points = torch.zeros(1, 4, 2)
    points[0, 0, 0] = points[0, 0, 1] = points[0, 1, 0] = 1
    bg = torch.tensor([[False, False, True, False]])
    mask = torch.ones(1, 4, dtype=torch.bool)
    return scores, points, bg, mask


def test_hand_computed_action_and_background():
    L = math.log
    # snippet 0, target [1, 1, 0]:
    #   0.5^2 * -log 0.5 + 0.8^2 * -log 0.2 + 0.1^2 * -log 0.9
    #   = 0.173287 + 1.030040 + 0.001054 = 1.204381
    s0 = 0.25 * -L(0.5) + 0.64 * -L(0.2) + 0.01 * -L(0.9)
    # snippet 1, target [1, 0, 0]:
    #   0.1^2 * -log 0.9 + 0.3^2 * -log 0.7 + 0.4^2 * -log 0.6
    #   = 0.001054 + 0.032101 + 0.081732 = 0.114886
    s1 = 0.01 * -L(0.9) + 0.09 * -L(0.7) + 0.16 * -L(0.6)
    # action = 0.5 * (1.204381 + 0.114886) / 2 = 0.329817
    action = 0.5 * (s0 + s1) / 2
    # background seed (snippet 2), target [0, 0, 1]:
    #   0.1^2 * -log 0.9 + 0.2^2 * -log 0.8 + 0.2^2 * -log 0.8
    #   = 0.001054 + 0.008926 + 0.008926 = 0.018905 (weight 1)
    background = 0.01 * -L(0.9) + 0.04 * -L(0.8) + 0.04 * -L(0.8)
    assert abs(action - 0.329817) < 1e-6 and abs(background - 0.018905) < 1e-6
    out = PointFocalLoss()(*_tiny())
    assert set(out) == {'loss_action', 'loss_background'}
    assert abs(out['loss_action'].item() - action) < 1e-5
    assert abs(out['loss_background'].item() - background) < 1e-5


def test_video_without_bg_seeds_counts_as_zero():
    scores, points, bg, mask = _tiny()
    single = PointFocalLoss()(scores, points, bg, mask)
    # second video: same scores, a point, no background seed
    scores2 = torch.cat([scores, scores])
    points2 = torch.cat([points, points])
    bg2 = torch.cat([bg, torch.zeros_like(bg)])
    out = PointFocalLoss()(scores2, points2, bg2, torch.cat([mask, mask]))
    torch.testing.assert_close(out['loss_background'],
                               single['loss_background'] / 2)
    torch.testing.assert_close(out['loss_action'], single['loss_action'])


def _pad_batch(parts, fill):
    t_max = max(p.shape[0] for p in parts)
    rows = []
    for p in parts:
        pad = torch.full((t_max - p.shape[0],) + p.shape[1:], fill,
                         dtype=p.dtype)
        rows.append(torch.cat([p, pad]))
    return torch.stack(rows)


def test_batch_equals_one_by_one():
    torch.manual_seed(0)
    C, lengths = 3, [5, 8, 3]
    logits = [torch.randn(t, C + 1, requires_grad=True) for t in lengths]
    points, bgs = [], []
    for t in lengths:
        p = torch.zeros(t, C)
        p[0, 1] = 1
        p[t - 1, 0] = p[t - 1, 2] = 1
        points.append(p)
        b = torch.zeros(t, dtype=torch.bool)
        b[1] = True
        bgs.append(b)
    bgs[2][:] = False                           # a video without bg seeds
    loss_fn = PointFocalLoss()

    def total(out):
        return out['loss_action'] + out['loss_background']

    singles = [loss_fn(torch.sigmoid(lg)[None], p[None], b[None],
                       torch.ones(1, lg.shape[0], dtype=torch.bool))
               for lg, p, b in zip(logits, points, bgs)]
    ref = sum(total(o) for o in singles) / 3
    ref.backward()
    ref_grads = [lg.grad.clone() for lg in logits]
    for lg in logits:
        lg.grad = None

    mask = _pad_batch([torch.ones(t, dtype=torch.bool) for t in lengths],
                      False)
    scores = _pad_batch([torch.sigmoid(lg) for lg in logits], 0.0)
    pts = _pad_batch(points, 1.0)               # labels in padding: ignored
    bg = _pad_batch(bgs, True)
    out = loss_fn(scores, pts, bg, mask)
    for key in out:
        torch.testing.assert_close(
            out[key], sum(o[key] for o in singles) / 3)
    total(out).backward()
    for lg, g in zip(logits, ref_grads):
        torch.testing.assert_close(lg.grad, g)
