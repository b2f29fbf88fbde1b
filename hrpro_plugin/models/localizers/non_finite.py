"""Stopping on NaN / infinite losses and stage-1 outputs, with messages
that name the step, the loss terms and the videos (and those of them whose
features are at fault)."""
from typing import Dict, List, Optional, Sequence

import torch


class NonFiniteLossError(RuntimeError):
    """A training loss (or a stage-1 output) is NaN or infinite; the message
    names the step, the loss terms and the batch's videos."""


def bad_feature_videos(inputs: torch.Tensor, names: Sequence) -> List[str]:
    """Names of the videos of a padded batch ``[B, T, D]`` whose features
    hold a NaN, an infinity or a value above 1e6 in magnitude."""
    x = inputs.detach().float()
    finite = torch.isfinite(x).flatten(1).all(1)
    big = x.nan_to_num(0, 0, 0).abs().flatten(1).amax(1) > 1e6
    return [str(names[i]) for i in range(len(names))
            if not finite[i] or big[i]]


def non_finite_loss_message(step: Optional[int], stage: int,
                            log_vars: Dict, inputs: Optional[torch.Tensor],
                            names: Sequence) -> str:
    """What ``HRPro.parse_losses`` says when the loss of training step
    ``step`` (0-based; ``None``: unknown) is not finite."""
    terms = ', '.join(f'{k}={float(v):g}' for k, v in log_vars.items())
    bad = bad_feature_videos(inputs, names) if inputs is not None else []
    where = (f'; features not finite or above 1e6 in: {", ".join(bad)}'
             if bad else '; every video\'s features are finite')
    return (f'non-finite loss at training step '
            f'{"?" if step is None else int(step) + 1} (stage '
            f'{stage}): {terms}. Batch videos: '
            f'{", ".join(str(n) for n in names)}{where}. Fix those '
            'features, or lower the learning rate (optim_wrapper.'
            'optimizer.lr) if they are fine. Training stopped before '
            'this step updated the weights.')


def check_test_outputs(video_scores: torch.Tensor, inputs: torch.Tensor,
                       data_samples: Sequence) -> None:
    """Raise :class:`NonFiniteLossError` naming the test videos whose video
    scores ``[B, C]`` are not finite (they cannot be scored)."""
    finite = torch.isfinite(video_scores).all(1)
    if bool(finite.all()):
        return
    names = [ds.metainfo.get('video_name') for ds in data_samples]
    bad = [str(n) for n, ok in zip(names, finite.tolist()) if not ok]
    feats = bad_feature_videos(inputs, names)
    raise NonFiniteLossError(
        f'non-finite stage-1 outputs for test video(s) '
        f'{", ".join(bad)}: they cannot be scored' +
        (f'; features not finite or above 1e6 in: {", ".join(feats)}'
         if feats else "; their features are finite: check the "
         "checkpoint's weights"))
