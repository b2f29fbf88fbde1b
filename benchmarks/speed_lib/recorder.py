"""The inputs of candidate generation and soft-NMS of a test pass, recorded
through PyTorch's public module forward hooks (nothing is patched).

``HRPro.predict`` calls ``self.head(x, mask)`` (the snippet head, whose
outputs ``fused_cas`` / ``attn`` / ``video_scores`` and ``mask`` argument
are the inputs of ``generate_candidates``, with ``model.proposal_cfg``),
then ``self.post_processor(segments, scores, labels, batch_idx)`` (class-wise
soft-NMS). A forward hook on each module sees those arguments and outputs.
"""
import inspect
import os.path as osp
from typing import List

import torch
from mmengine.runner import load_checkpoint


def _bound_arguments(module: torch.nn.Module, args: tuple,
                     kwargs: dict) -> List:
    """The arguments of a ``module(...)`` call in the order of its
    ``forward`` signature, however they were passed."""
    bound = inspect.signature(module.forward).bind(*args, **kwargs)
    return list(bound.arguments.values())


class Recorder:
    """Keeps (by reference: no copy, no device sync) the inputs of candidate
    generation and of soft-NMS of every ``predict()`` call made while it is
    entered (``with Recorder(model) as rec: runner.test()``).

    ``candidates[i]`` is ``(fused_cas, attn, video_scores, mask, cfg)`` of
    test batch ``i`` (the head's floating outputs as float32, as
    ``HRPro.extract`` returns them; ``cfg`` a copy of ``model.proposal_cfg``)
    and ``nms[i]`` is ``(segments, scores, labels, batch_idx)``. A batch is
    recorded when its soft-NMS call comes, paired with the first head call
    since the previous soft-NMS call (the head call of that ``predict``).
    Leaving the ``with`` block removes both hooks.
    """

    def __init__(self, model: torch.nn.Module):
        self.model = model
        self.candidates, self.nms = [], []
        self._head_call = None
        self._handles = []

    def __enter__(self):
        self._handles = [
            self.model.head.register_forward_hook(self._on_head,
                                                  with_kwargs=True),
            self.model.post_processor.register_forward_hook(
                self._on_post_processor, with_kwargs=True)]
        return self

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()
        self._handles, self._head_call = [], None
        return False

    def _on_head(self, module, args, kwargs, output):
        if self._head_call is not None:
            return
        mask = _bound_arguments(module, args, kwargs)[1]

        def as_float(x):
            return x.float() if torch.is_floating_point(x) else x

        self._head_call = (as_float(output['fused_cas']),
                           as_float(output['attn']),
                           as_float(output['video_scores']), mask,
                           dict(self.model.proposal_cfg))

    def _on_post_processor(self, module, args, kwargs, output):
        if self._head_call is None:
            raise RuntimeError('soft-NMS ran without a snippet-head call '
                               'before it: the recorder cannot pair them')
        segments, scores, labels, batch_idx = \
            _bound_arguments(module, args, kwargs)[:4]
        self.candidates.append(self._head_call)
        self.nms.append((segments, scores, labels, batch_idx))
        self._head_call = None


def bench_checkpoint_outputs(runner, model, path):
    """Load ``path`` into ``model`` (strictly: a checkpoint of another
    model config is an error) and record its test outputs (untimed)."""
    if not osp.isfile(path):
        raise SystemExit(f'[speed] --bench-checkpoint: no file {path}')
    device = next(model.parameters()).device
    try:
        load_checkpoint(model, path, map_location=device, strict=True,
                        logger='silent')
    except RuntimeError as err:
        raise SystemExit(f'[speed] --bench-checkpoint {path} does not fit '
                         f'the benchmark model ({err})') from None
    print(f'[speed] recording the test outputs of {path} (untimed)',
          flush=True)
    with Recorder(model) as rec:         # the test loop runs without grad
        metrics = runner.test()
    return rec, dict(path=path,
                     metrics={k: float(v) for k, v in metrics.items()})
