import math

import torch

from hrpro_plugin.models.snippet_level.contrastive_loss import \
    ReliableContrastiveLoss


def _tiny():
    # prototypes m0 = (1, 0), m1 = (0, 1) (scaled: normalised inside)
    protos = torch.tensor([[2., 0.], [0., 3.]])
    # snippets: t0 (1,0) class-0 seed, t1 (0,2) class-1 seed,
    # t2 (1,1) class-0 seed, t3 (-1,0) background seed
    emb = torch.tensor([[[1., 0.], [0., 2.], [1., 1.], [-1., 0.]]])
    act = torch.zeros(1, 4, 2)
    act[0, 0, 0] = act[0, 2, 0] = act[0, 1, 1] = 1
    bg = torch.tensor([[False, False, False, True]])
    labels = torch.tensor([[1., 1.]])
    mask = torch.ones(1, 4, dtype=torch.bool)
    return emb, protos, act, bg, labels, mask


def _hand_value():
    # temperature 0.5: e_{t,k} = exp(2 cos(x_t, m_k)); r = cos 45deg
    e, L, r = math.exp, math.log, math.sqrt(0.5)
    # class 0 (seeds t0, t2): s^a_0 = (e^2 + e^{2r}) / 2 = 5.751153
    #                         s^a_1 = (e^0 + e^{2r}) / 2 = 2.556625
    #   background (t3): s^b_0 = e^{-2} = 0.135335
    #   L_0 = 0.5 * -log(5.751153 / 8.307778)
    #       + 0.5 * -log(5.751153 / 5.886488) = 0.195526
    sa0, sa1, sb0 = (e(2) + e(2 * r)) / 2, (1 + e(2 * r)) / 2, e(-2)
    l0 = 0.5 * -L(sa0 / (sa0 + sa1)) + 0.5 * -L(sa0 / (sa0 + sb0))
    # class 1 (seed t1): s^a_0 = e^0 = 1, s^a_1 = e^2; s^b_1 = e^0 = 1
    #   L_1 = 0.5 * -log(e^2 / (1 + e^2)) * 2 = log(1 + e^{-2}) = 0.126928
    l1 = L(1 + e(-2))
    assert abs(l0 - 0.195526) < 1e-6 and abs(l1 - 0.126928) < 1e-6
    return (l0 + l1) / 2                        # = 0.161227


def test_hand_computed():
    loss = ReliableContrastiveLoss(temperature=0.5)(*_tiny())
    assert abs(loss.item() - _hand_value()) < 1e-5


def test_classes_counted_only_with_label_and_seeds():
    emb, protos, act, bg, labels, mask = _tiny()
    # class 1 not in the video label: only L_0 = 0.195526 remains
    loss = ReliableContrastiveLoss(temperature=0.5)(
        emb, protos, act, bg, torch.tensor([[1., 0.]]), mask)
    assert abs(loss.item() - 0.195526) < 1e-5
    # class 1 labelled but without seeds: same
    act2 = act.clone()
    act2[..., 1] = 0
    loss = ReliableContrastiveLoss(temperature=0.5)(
        emb, protos, act2, bg, labels, mask)
    assert abs(loss.item() - 0.195526) < 1e-5


def test_video_without_bg_seeds_contributes_zero():
    emb, protos, act, bg, labels, mask = _tiny()
    two = ReliableContrastiveLoss(temperature=0.5, loss_weight=2.0)(
        torch.cat([emb, emb]), protos, torch.cat([act, act]),
        torch.cat([bg, torch.zeros_like(bg)]), torch.cat([labels, labels]),
        torch.cat([mask, mask]))
    # (0.161227 + 0) / 2 * weight 2
    assert abs(two.item() - _hand_value()) < 1e-5
    emb.requires_grad_(True)
    none = ReliableContrastiveLoss()(emb, protos, act, torch.zeros_like(bg),
                                     labels, mask)
    assert none.item() == 0.0
    none.backward()
    assert torch.all(emb.grad == 0)


def _pad_batch(parts, fill):
    t_max = max(p.shape[0] for p in parts)
    rows = []
    for p in parts:
        pad = torch.full((t_max - p.shape[0],) + p.shape[1:], fill,
                         dtype=p.dtype)
        rows.append(torch.cat([p, pad]))
    return torch.stack(rows)


def test_batch_equals_one_by_one_and_grads_into_features_only():
    torch.manual_seed(0)
    C, D, lengths = 3, 4, [6, 9, 4]
    feats = [torch.randn(t, D, requires_grad=True) for t in lengths]
    protos = torch.randn(C, D, requires_grad=True)
    acts, bgs = [], []
    for t in lengths:
        a = torch.zeros(t, C)
        a[0, 0] = a[1, 0] = a[2, 2] = a[t - 1, 1] = 1
        acts.append(a)
        b = torch.zeros(t, dtype=torch.bool)
        b[3] = True
        bgs.append(b)
    bgs[1][:] = False                          # video 1: no bg seeds
    vlabels = torch.tensor([[1., 1., 0.], [1., 0., 1.], [1., 1., 1.]])
    loss_fn = ReliableContrastiveLoss()

    singles = [loss_fn(f[None], protos, a[None], b[None], v[None],
                       torch.ones(1, f.shape[0], dtype=torch.bool))
               for f, a, b, v in zip(feats, acts, bgs, vlabels)]
    ref = sum(singles) / 3
    ref.backward()
    ref_grads = [f.grad.clone() for f in feats]
    assert protos.grad is None
    for f in feats:
        f.grad = None

    mask = _pad_batch([torch.ones(t, dtype=torch.bool) for t in lengths],
                      False)
    out = loss_fn(_pad_batch(feats, 7.0), protos, _pad_batch(acts, 1.0),
                  _pad_batch(bgs, True), vlabels, mask)
    torch.testing.assert_close(out, ref)
    out.backward()
    for f, g in zip(feats, ref_grads):
        torch.testing.assert_close(f.grad, g)
    assert protos.grad is None
    assert ref.item() > 0
