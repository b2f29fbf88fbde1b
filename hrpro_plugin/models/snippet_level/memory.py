"""Class prototype memory of HR-Pro stage 1 (not trained by SGD).

The C prototypes are a persistent buffer, so they are saved in checkpoints
and never reach an optimizer. They are initialised once from the mean
embedded feature at each class's point snippets and then follow a per-video
exponential moving average of the pseudo-action features.
"""
from typing import Iterable, Tuple

import torch
from mmaction.registry import MODELS
from mmengine import dist
from torch import nn


def _is_distributed() -> bool:
    return dist.is_distributed() and dist.get_world_size() > 1


@MODELS.register_module()
class PrototypeMemory(nn.Module):
    """Per-class prototype vectors with a momentum update.

    Args:
        num_classes (int): C.
        channels (int): D (width of the embedded features).
        momentum (float): EMA momentum. Defaults to 0.999.

    Buffers:
        prototypes: ``[C, D]`` float, zero until initialised.
        initialized: bool scalar tensor.
    """

    def __init__(self, num_classes: int, channels: int,
                 momentum: float = 0.999) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.channels = channels
        self.momentum = float(momentum)
        self.register_buffer('prototypes', torch.zeros(num_classes, channels))
        self.register_buffer('initialized', torch.tensor(False))

    # ------------------------------------------------------------- helpers
    @staticmethod
    def all_reduce_(tensors: Iterable[torch.Tensor]) -> None:
        """Sum each tensor in place over all processes (no-op without
        ``torch.distributed`` or with a single process)."""
        if not _is_distributed():
            return
        for t in tensors:
            dist.all_reduce(t, op='sum')

    # --------------------------------------------------------------- init
    @torch.no_grad()
    def accumulate_init(self, embedded: torch.Tensor,
                        point_labels: torch.Tensor,
                        mask: torch.Tensor
                        ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Per-class sums and counts of embedded features at point snippets.

        A snippet holding points of classes c1 and c2 counts for both.

        Args:
            embedded: ``[B, T, D]``.
            point_labels: ``[B, T, C]`` multi-hot.
            mask: ``[B, T]`` bool.

        Returns:
            ``(sums [C, D], counts [C])`` in the dtype of ``prototypes``
            (local to this process; reduce them with :meth:`all_reduce_`).
        """
        dtype = self.prototypes.dtype
        labels = ((point_labels > 0) & mask.bool()[..., None]).to(dtype)
        emb = embedded.detach().to(dtype)
        sums = torch.einsum('btc,btd->cd', labels, emb)
        counts = labels.sum(dim=(0, 1))
        return sums, counts

    @torch.no_grad()
    def init_from_sums(self, sums: torch.Tensor,
                       counts: torch.Tensor) -> None:
        """Set ``prototypes = sums / counts`` and mark the memory initialised.

        Under ``torch.distributed`` the caller passes already-reduced sums.

        Raises:
            ValueError: when a class has no point snippet (count 0).
        """
        counts = counts.to(self.prototypes.device)
        empty = (counts <= 0).nonzero().flatten().tolist()
        if empty:
            raise ValueError(
                f'PrototypeMemory: class index(es) {empty} have no point '
                'snippet to initialise their prototype from')
        protos = sums.to(self.prototypes) / counts.to(self.prototypes)[:, None]
        self.prototypes.copy_(protos)
        self.initialized.fill_(True)

    # ------------------------------------------------------------- update
    @torch.no_grad()
    def update(self, embedded: torch.Tensor, act_labels: torch.Tensor,
               mask: torch.Tensor) -> None:
        """Momentum update from the pseudo-action snippets of a batch.

        Equivalent to, for each video in batch order (then by rank under
        multi-process training) and each class c with at least one
        pseudo-action snippet in that video,
        ``m_c <- momentum * m_c + (1 - momentum) * mean(x^e_t)``.
        Written in closed form: with n_c contributing videos i = 1..n_c,
        ``m_c = momentum^n_c m_c + sum_i (1 - momentum) momentum^(n_c - i)
        mu_ic``. The means do not depend on the memory, so every video reads
        the memory as it was at the start of the step. The buffer is replaced
        (not written in place), so tensors the step's forward built from the
        old buffer keep their values and their backward pass still works.

        Args:
            embedded: ``[B, T, D]`` (detached here).
            act_labels: ``[B, T, C]`` multi-hot pseudo-action labels.
            mask: ``[B, T]`` bool.
        """
        dtype = self.prototypes.dtype
        mom = self.momentum
        labels = ((act_labels > 0) & mask.bool()[..., None]).to(dtype)
        emb = embedded.detach().to(dtype)
        counts = labels.sum(dim=1)                              # [B, C]
        sums = torch.einsum('btc,btd->bcd', labels, emb)        # [B, C, D]
        means = sums / counts.clamp(min=1)[..., None]
        contrib = (counts > 0).to(dtype)                        # [B, C]
        # contributing videos after video b on this process (exclusive);
        # an integer cumsum, since a float cumsum on CUDA refuses to run
        # under torch.use_deterministic_algorithms (--deterministic)
        c_int = (counts > 0).long()
        after = (c_int.flip(0).cumsum(0).flip(0) - c_int).to(dtype)
        local_n = contrib.sum(dim=0)                            # [C]
        total_n = local_n.clone()
        if _is_distributed():
            per_rank = dist.all_gather(local_n)                 # list of [C]
            rank = dist.get_rank()
            later = [n for r, n in enumerate(per_rank) if r > rank]
            offset = (torch.stack(later).sum(0) if later
                      else torch.zeros_like(local_n))
            after = after + offset[None]
        weights = (1.0 - mom) * torch.pow(mom, after) * contrib   # [B, C]
        weighted = torch.einsum('bc,bcd->cd', weights, means)   # [C, D]
        if _is_distributed():
            self.all_reduce_([weighted, total_n])
        decay = torch.pow(mom, total_n)                         # [C]
        # out of place: a graph built in this step's forward from the old
        # buffer keeps its values (no in-place version conflict at backward)
        self.prototypes = decay[:, None] * self.prototypes + weighted
