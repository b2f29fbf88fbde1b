"""Reliable (prototype) contrastive loss of HR-Pro stage 1."""
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import nn


@MODELS.register_module()
class ReliableContrastiveLoss(nn.Module):
    """Contrast the reliable snippets of each video against the prototypes.

    With ``e_{t,k} = exp(cos(x_t, m_k) / temperature)``, for every class c of
    the video (video label 1) that has at least one class-c action seed:
    ``s^a_k`` = mean of ``e_{t,k}`` over the class-c action seeds,
    ``s^b_k`` = mean over all background seeds, and
    ``L_c = 0.5 * -log(s^a_c / sum_k s^a_k)
    + 0.5 * -log(s^a_c / (s^a_c + s^b_c))``.
    A video's loss is the mean of its ``L_c``; a video without background
    seeds (or without such a class) contributes 0; the result is the mean
    over the B videos, times ``loss_weight``.

    The means of exponentials are computed in log space: each
    ``(video, prototype)`` column is shifted by its maximum logit over the
    video's valid snippets before ``exp``, so nothing overflows; the values
    equal the formula exactly (no approximation).

    Args:
        temperature (float): Defaults to 0.1.
        loss_weight (float): Defaults to 1.0.
    """

    def __init__(self, temperature: float = 0.1,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.temperature = temperature
        self.loss_weight = loss_weight

    def forward(self, embedded: torch.Tensor, prototypes: torch.Tensor,
                act_labels: torch.Tensor, bg_seeds: torch.Tensor,
                video_labels: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        """
        Args:
            embedded: ``[B, T, D]`` embedded features (gradients flow here).
            prototypes: ``[C, D]`` (detached).
            act_labels: ``[B, T, C]`` multi-hot action seeds.
            bg_seeds: ``[B, T]`` bool background seeds.
            video_labels: ``[B, C]`` multi-hot video labels.
            mask: ``[B, T]`` bool, True on valid snippets.

        Returns:
            Scalar tensor.
        """
        mask = mask.bool()
        dtype = embedded.dtype
        x = F.normalize(embedded, dim=-1)
        m = F.normalize(prototypes.detach().to(dtype), dim=-1)
        logits = torch.einsum('btd,kd->btk', x, m) / self.temperature
        # per (video, prototype) shift: max over the valid snippets
        shift = logits.detach().masked_fill(~mask[..., None], float('-inf'))
        shift = shift.amax(dim=1, keepdim=True)                  # [B, 1, C]
        shift = torch.where(torch.isfinite(shift), shift,
                            torch.zeros_like(shift))
        e = torch.exp(logits - shift)                            # [B, T, C]
        e = torch.where(mask[..., None], e, torch.zeros_like(e))
        shift = shift[:, 0]                                      # [B, C]

        act = ((act_labels > 0) & mask[..., None]).to(dtype)     # [B, T, C]
        bg = (bg_seeds.bool() & mask).to(dtype)                  # [B, T]
        n_act = act.sum(dim=1)                                   # [B, C]
        n_bg = bg.sum(dim=1)                                     # [B]

        tiny = torch.finfo(dtype).tiny
        # log s^a[b, c, k]: class-c action seeds, prototype k
        sum_a = torch.einsum('btc,btk->bck', act, e)
        log_sa = (torch.log(sum_a.clamp(min=tiny)) + shift[:, None, :]
                  - torch.log(n_act.clamp(min=1))[..., None])
        # log s^b[b, k]
        sum_b = torch.einsum('bt,btk->bk', bg, e)
        log_sb = (torch.log(sum_b.clamp(min=tiny)) + shift
                  - torch.log(n_bg.clamp(min=1))[:, None])

        log_sa_cc = torch.diagonal(log_sa, dim1=1, dim2=2)       # [B, C]
        term_proto = torch.logsumexp(log_sa, dim=2) - log_sa_cc
        term_bg = torch.logaddexp(log_sa_cc, log_sb) - log_sa_cc
        loss_c = 0.5 * term_proto + 0.5 * term_bg                # [B, C]

        valid = (video_labels > 0) & (n_act > 0) & (n_bg > 0)[:, None]
        loss_c = torch.where(valid, loss_c, torch.zeros_like(loss_c))
        n_valid = valid.sum(dim=1)
        per_video = loss_c.sum(dim=1) / n_valid.clamp(min=1).to(dtype)
        return self.loss_weight * per_video.mean()
