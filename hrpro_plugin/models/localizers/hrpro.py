"""HR-Pro localizer: wires the parts and owns ``forward(inputs, data_samples, mode)``.

Stage 1 (snippet level): RABNeck -> SnippetHead -> pseudo snippets ->
PointFocalLoss + ReliableContrastiveLoss -> PrototypeMemory.update.
Stage 2 (instance level): RoI-aligned proposals -> InstanceHead -> score and
regression losses, on the proposals mined once at the switch.
Inference: stage-1 outputs -> candidates (+ InstanceHead when stage 2 is
trained) -> class-wise soft-NMS -> ``pred_instances`` in seconds.

:meth:`HRPro.snippet_pass` is the one stage-1 pass (masks, network, point
labels, pseudo snippets, candidates) that training, inference, the
prototype initialisation, the proposal mining and ``tools/visualize.py``
share.
"""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel

from mmaction.registry import MODELS
from ..proposals.candidates import cap_candidates, generate_candidates
from ..snippet_level.pseudo_snippets import mine_pseudo_snippets
from ..utils import (batch_lengths, batch_point_labels, batch_video_labels,
                     lengths_to_mask)
from .non_finite import (NonFiniteLossError, check_test_outputs,
                         non_finite_loss_message)
from .predictions import pack_predictions
from .snippet_pass import SnippetPass


@MODELS.register_module()
class HRPro(BaseModel):
    """Point-supervised temporal action localizer (HR-Pro, AAAI 2024).

    Args:
        feat_dim (int): snippet feature width D. Tools fill it from the data
            when the config leaves it ``None``.
        num_classes (int): number of action classes C (filled by the tools
            from the dataset's class list when ``None``).
        neck (dict | None): the RAB stack; ``None`` skips it (ablation "no RAB").
        head (dict): the snippet head.
        memory (dict): the prototype memory.
        focal_loss (dict): L_base.
        contrastive_loss (dict | None): L_contra; ``None`` switches it off.
        video_loss_weight (float): weight of the video-level BCE (the method: 0).
        pseudo_cfg (dict): thresholds of the pseudo-snippet mining.
        proposal_cfg (dict): thresholds of the candidate generator.
        instance_head (dict | None): stage 2; ``None`` for a stage-1 model.
        instance_loss (dict | None): stage-2 losses.
        stage2_cfg (dict): ``use_embedded`` (feed the instance head the
            embedded features instead of the raw ones), ``seed`` (proposal
            sampling), ``use_score`` / ``use_regression`` (inference: add
            p_comp to the OIC / emit the refined proposals; the L_reg-only
            and L_score-only ablations switch one off).
        post_processor (dict): class-wise soft-NMS.
        test_cfg (dict): ``max_candidates`` (int | None): at inference, keep
            the best candidates of each video by OIC score, at most this
            many, before the instance head and soft-NMS. It bounds the time
            of an untrained or badly trained model (hundreds of thousands
            of candidates a video) and changes nothing where a video has
            fewer; ``None`` (default) keeps all, as the reference does.
            Training and mining never cap.
        bf16 (bool): run the networks under bf16 autocast when the model is
            on CUDA (losses, proposals and post-processing stay float32);
            ignored on CPU. ``tools/train.py --amp`` sets it.
    """

    def __init__(self,
                 feat_dim: int,
                 num_classes: int,
                 neck: Optional[dict] = dict(type='RABNeck'),
                 head: dict = dict(type='SnippetHead'),
                 memory: dict = dict(type='PrototypeMemory'),
                 focal_loss: dict = dict(type='PointFocalLoss'),
                 contrastive_loss: Optional[dict] = dict(
                     type='ReliableContrastiveLoss'),
                 video_loss_weight: float = 0.0,
                 pseudo_cfg: dict = dict(bg_thresh=0.95, act_thresh=0.1),
                 proposal_cfg: Optional[dict] = None,
                 instance_head: Optional[dict] = None,
                 instance_loss: Optional[dict] = None,
                 stage2_cfg: Optional[dict] = None,
                 post_processor: dict = dict(type='SoftNMSPostProcessor'),
                 test_cfg: Optional[dict] = None,
                 bf16: bool = False,
                 data_preprocessor: dict = dict(type='PointTALDataPreprocessor'),
                 init_cfg: Optional[dict] = None):
        if isinstance(data_preprocessor, dict):
            # build from mmaction's registry so no default scope is needed
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if feat_dim is None or num_classes is None:
            raise ValueError(
                'HRPro needs feat_dim and num_classes; tools/train.py and '
                'tools/test.py fill them from the data when a config leaves '
                f'them None (got feat_dim={feat_dim}, num_classes={num_classes})')
        self.feat_dim = int(feat_dim)
        self.num_classes = int(num_classes)
        dims = dict(in_channels=self.feat_dim, num_classes=self.num_classes)
        self.neck = MODELS.build({**dims, **neck}) if neck else None
        self.head = MODELS.build({**dims, **head})
        self.memory = MODELS.build(
            dict(num_classes=self.num_classes, channels=self.feat_dim,
                 **memory))
        self.focal_loss = MODELS.build(focal_loss)
        self.contrastive_loss = (MODELS.build(contrastive_loss)
                                 if contrastive_loss else None)
        self.video_loss_weight = float(video_loss_weight)
        self.pseudo_cfg = dict(pseudo_cfg)
        # keys left out take generate_candidates' defaults (the method's thresholds)
        self.proposal_cfg = dict(proposal_cfg or {})
        self.stage2_cfg = dict(use_embedded=False, seed=0, use_score=True,
                               use_regression=True)
        self.stage2_cfg.update(stage2_cfg or {})
        self.instance_head = (MODELS.build(
            dict(in_channels=self.feat_dim, **instance_head))
            if instance_head else None)
        self.instance_loss = (MODELS.build(instance_loss)
                              if instance_loss else None)
        if (self.instance_head is None) != (self.instance_loss is None):
            raise ValueError('instance_head and instance_loss go together')
        self.post_processor = MODELS.build(post_processor)
        self.test_cfg = dict(max_candidates=None)
        unknown = set(test_cfg or {}) - set(self.test_cfg)
        if unknown:
            raise ValueError(f'test_cfg: unknown key(s) {sorted(unknown)}; '
                             f'known: {sorted(self.test_cfg)}')
        self.test_cfg.update(test_cfg or {})
        cap = self.test_cfg['max_candidates']
        if cap is not None and (isinstance(cap, bool) or
                                not isinstance(cap, int) or cap < 1):
            raise ValueError('test_cfg.max_candidates must be a positive '
                             f'integer or None, got {cap!r}')
        self.bf16 = bool(bf16)
        # 1 while stage 1 trains; 2 once the switch has happened. Saved in
        # checkpoints, so a stage-1 checkpoint predicts without the
        # (untrained) instance head.
        self.register_buffer('stage', torch.tensor(1, dtype=torch.long))
        # stage-2 training steps so far: seeds the proposal sampler of each
        # step (seed, step), so a resumed run draws what an uninterrupted one
        # would, with no generator state to save.
        self.register_buffer('stage2_steps', torch.tensor(0, dtype=torch.long))

    # ------------------------------------------------------------------ #
    # shared pieces
    # ------------------------------------------------------------------ #
    @property
    def current_stage(self) -> int:
        return int(self.stage.item())

    def stage1_modules(self) -> List[torch.nn.Module]:
        return [m for m in (self.neck, self.head) if m is not None]

    def trainable_modules(self) -> List[torch.nn.Module]:
        """The modules the current stage trains (the lr logged is theirs)."""
        if self.current_stage == 1:
            return self.stage1_modules()
        return [self.instance_head]

    def switch_to_stage2(self) -> None:
        """Freeze the stage-1 network and memory; stage 2 trains the
        instance head only. Frozen parameters get no gradient, so the
        optimizer neither updates nor decays them."""
        if self.instance_head is None:
            raise RuntimeError('this model has no instance_head: it is a '
                               'stage-1 model and cannot switch to stage 2')
        for module in self.stage1_modules():
            module.eval()
            for p in module.parameters():
                p.requires_grad_(False)
        self.stage.fill_(2)

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and self.current_stage == 2:
            for module in self.stage1_modules():
                module.eval()
        return self

    def masks_for(self, inputs: torch.Tensor,
                  data_samples: Sequence) -> torch.Tensor:
        lengths = batch_lengths(data_samples, device=inputs.device)
        if int(lengths.max()) > inputs.shape[1]:
            raise ValueError(
                f'num_snippets {lengths.tolist()} exceed the padded length '
                f'{inputs.shape[1]}')
        return lengths_to_mask(lengths, inputs.shape[1])

    def extract(self, inputs: torch.Tensor, mask: torch.Tensor) -> Dict:
        """Stage-1 network: RAB stack (with prototype tokens) + snippet head."""
        if inputs.shape[-1] != self.feat_dim:
            raise ValueError(
                f'features are {inputs.shape[-1]}-d but the model was built '
                f'for feat_dim={self.feat_dim}')
        x = inputs * mask[..., None].to(inputs.dtype)
        with self.autocast(x):
            if self.neck is not None:
                x = self.neck(x, mask, self.memory.prototypes)
            out = self.head(x, mask)
        return {k: (v.float() if torch.is_floating_point(v) else v)
                for k, v in out.items()}

    def autocast(self, x: torch.Tensor):
        """bf16 autocast on CUDA when ``bf16`` is set; a no-op otherwise."""
        return torch.autocast(device_type=x.device.type, dtype=torch.bfloat16,
                              enabled=self.bf16 and x.is_cuda)

    # ------------------------------------------------------------------ #
    # forward contract
    # ------------------------------------------------------------------ #
    def forward(self, inputs: torch.Tensor, data_samples=None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.snippet_pass(inputs, data_samples).outputs
        raise RuntimeError(f'Invalid mode "{mode}": use loss, predict or tensor')

    def loss(self, inputs: torch.Tensor, data_samples: Sequence) -> Dict:
        # kept for the error message of parse_losses
        self._loss_batch = (inputs, [ds.metainfo.get('video_name')
                                     for ds in data_samples])
        if self.current_stage == 1:
            return self.loss_stage1(inputs, data_samples)
        return self.loss_stage2(inputs, data_samples)

    def parse_losses(self, losses: Dict):
        """``BaseModel.parse_losses``, then stop on a non-finite loss before
        the optimizer steps (so no NaN reaches the weights), naming the
        step, the loss terms and the batch's videos, and the videos whose
        features are not finite or are huge. Both the plain and the
        distributed ``train_step`` call this. (A non-finite gradient under
        a finite loss makes the next step's loss non-finite.)"""
        loss, log_vars = super().parse_losses(losses)
        if not bool(torch.isfinite(loss.detach())):
            raise NonFiniteLossError(self._non_finite_message(log_vars))
        return loss, log_vars

    def _non_finite_message(self, log_vars) -> str:
        from mmengine.logging import MessageHub
        step = MessageHub.get_current_instance().get_info('iter')
        inputs, names = getattr(self, '_loss_batch', (None, []))
        return non_finite_loss_message(step, self.current_stage, log_vars,
                                       inputs, names)

    # ------------------------------------------------------------------ #
    # the stage-1 pass (training, inference, hooks, tools/visualize.py)
    # ------------------------------------------------------------------ #
    def snippet_pass(self, inputs: torch.Tensor,
                     data_samples: Optional[Sequence] = None, *,
                     points: bool = False, pseudo: bool = False,
                     candidates: bool = False) -> SnippetPass:
        """The stage-1 pass of a padded batch ``inputs`` ``[B, T, D]``: the
        valid-snippet mask (from ``num_snippets`` of ``data_samples``; all
        valid without them), one run of the network (:meth:`extract`), and
        on request, batched on the model's device:

        - ``points``: the dense point labels of ``gt_points``;
        - ``pseudo`` (implies ``points``): pseudo action / background
          snippets mined from the points and ``bg`` (``pseudo_cfg``);
        - ``candidates``: the batch's candidate proposals (``proposal_cfg``;
          not capped: :meth:`predict_from_pass` applies
          ``test_cfg.max_candidates``).

        The network keeps gradients where the caller's context does (the
        training step); pseudo snippets and candidates never have any.
        Returns a :class:`SnippetPass`.
        """
        if data_samples is None:
            if points or pseudo:
                raise ValueError('point labels need data_samples')
            mask = torch.ones(inputs.shape[:2], dtype=torch.bool,
                              device=inputs.device)
        else:
            mask = self.masks_for(inputs, data_samples)
        out = self.extract(inputs, mask)
        sp = SnippetPass(mask=mask, outputs=out)
        if points or pseudo:
            sp.point_labels = batch_point_labels(
                data_samples, mask.shape[1], self.num_classes,
                device=inputs.device)
        with torch.no_grad():
            if pseudo:
                sp.act_labels, sp.bg_seeds = mine_pseudo_snippets(
                    sp.point_labels, out['bg'].detach(), mask,
                    **self.pseudo_cfg)
            if candidates:
                sp.candidates = generate_candidates(
                    out['fused_cas'].detach(), out['attn'].detach(),
                    out['video_scores'].detach(), mask, **self.proposal_cfg)
        return sp

    # ------------------------------------------------------------------ #
    # stage 1
    # ------------------------------------------------------------------ #
    def loss_stage1(self, inputs: torch.Tensor, data_samples: Sequence) -> Dict:
        sp = self.snippet_pass(inputs, data_samples, pseudo=True)
        out, mask = sp.outputs, sp.mask
        act_labels, bg_seeds = sp.act_labels, sp.bg_seeds
        scores = torch.cat([out['fused_cas'], out['bg'][..., None]], dim=-1)
        losses = dict(self.focal_loss(scores, sp.point_labels, bg_seeds,
                                      mask))
        video_labels = batch_video_labels(data_samples, device=inputs.device)
        if self.contrastive_loss is not None:
            losses['loss_contrastive'] = self.contrastive_loss(
                out['embedded'], self.memory.prototypes, act_labels, bg_seeds,
                video_labels, mask)
        if self.video_loss_weight > 0:
            losses['loss_video'] = self.video_loss_weight * \
                F.binary_cross_entropy(
                    out['video_scores'].clamp(1e-6, 1 - 1e-6), video_labels)
        if self.training:
            # every video of the step read the memory as it was at the start
            # of the step (forward above); now the momentum updates.
            self.memory.update(out['embedded'].detach(), act_labels, mask)
        return losses

    # ------------------------------------------------------------------ #
    # stage 2
    # ------------------------------------------------------------------ #
    def instance_features(self, inputs: torch.Tensor,
                          mask: torch.Tensor) -> torch.Tensor:
        if not self.stage2_cfg['use_embedded']:
            return inputs * mask[..., None].to(inputs.dtype)
        with torch.no_grad():
            return self.extract(inputs, mask)['embedded']

    def loss_stage2(self, inputs: torch.Tensor, data_samples: Sequence) -> Dict:
        from ..instance_level.stage2_batch import gather_mined_proposals
        mask = self.masks_for(inputs, data_samples)
        feats = self.instance_features(inputs, mask)
        mined = gather_mined_proposals(data_samples, device=inputs.device)
        generator = torch.Generator(device='cpu')
        generator.manual_seed(int(self.stage2_cfg['seed']) * 1_000_003 +
                              int(self.stage2_steps))
        if self.training:
            self.stage2_steps += 1
        with self.autocast(feats):
            losses = self.instance_loss(self.instance_head, feats, mask,
                                        mined, generator=generator)
        return {k: v.float() for k, v in losses.items()}

    # ------------------------------------------------------------------ #
    # inference
    # ------------------------------------------------------------------ #
    def predict(self, inputs: torch.Tensor, data_samples: Sequence) -> List:
        sp = self.snippet_pass(inputs, data_samples, candidates=True)
        return self.predict_from_pass(sp, inputs, data_samples)

    def predict_from_pass(self, sp: SnippetPass, inputs: torch.Tensor,
                          data_samples: Sequence) -> List:
        """:meth:`predict` from the ``snippet_pass(..., candidates=True)``
        of the same batch, so that a caller that also wants the stage-1
        outputs (``tools/visualize.py``) runs the network once."""
        if sp.candidates is None:
            raise ValueError('predict_from_pass needs the candidates: '
                             'snippet_pass(..., candidates=True)')
        out, mask = sp.outputs, sp.mask
        check_test_outputs(out['video_scores'], inputs, data_samples)
        cand = cap_candidates(sp.candidates, self.test_cfg['max_candidates'])
        start, end = cand['start'], cand['end']
        label, batch_idx, score = cand['label'], cand['batch_idx'], cand['score']
        if self.instance_head is not None and self.current_stage == 2:
            f = self.instance_predictions(sp, inputs, cand)
            start, end, score = (f[k].float() for k in ('start', 'end',
                                                        'score'))
            label, batch_idx = f['label'], f['batch_idx']
        return self.detect(data_samples, start, end, label, batch_idx, score,
                           out['video_scores'])

    def instance_predictions(self, sp: SnippetPass, inputs: torch.Tensor,
                             candidates: Dict[str, torch.Tensor]) -> Dict:
        """:meth:`InstanceHead.predict` of ``candidates`` (of the batch of
        ``sp``) with the stage-2 switches: both boxes of each candidate,
        with their fused scores and the candidate each row came from."""
        # the embedded features are already at hand: no second pass
        feats = sp.outputs['embedded'].detach() \
            if self.stage2_cfg['use_embedded'] else \
            self.instance_features(inputs, sp.mask)
        with self.autocast(feats):
            return self.instance_head.predict(
                feats, sp.mask, candidates,
                use_score=self.stage2_cfg['use_score'],
                use_regression=self.stage2_cfg['use_regression'])

    def detect(self, data_samples: Sequence, start: torch.Tensor,
               end: torch.Tensor, label: torch.Tensor,
               batch_idx: torch.Tensor, score: torch.Tensor,
               video_scores: torch.Tensor) -> List:
        """Scored rows (flat tensors, snippet units) -> soft-NMS ->
        ``pred_instances`` of each data sample, in seconds. The tail of
        :meth:`predict_from_pass`, callable on rows scored another way
        (``benchmarks/rescore.py``)."""
        segments = torch.stack([start, end], dim=-1)
        nms_segments = segments
        if getattr(self.post_processor, 'length_offset', 0):
            # the reference's "+1" convention is defined on seconds
            sec = torch.tensor(
                [float(ds.metainfo['snippet_seconds']) for ds in data_samples],
                device=segments.device, dtype=segments.dtype)
            nms_segments = segments * sec[batch_idx][:, None]
        keep, new_scores = self.post_processor(nms_segments, score, label,
                                               batch_idx)
        return self.pack_predictions(data_samples, segments[keep],
                                     label[keep], new_scores, batch_idx[keep],
                                     video_scores)

    # also HRPro.pack_predictions (configs/examples/mixing_modules.py)
    pack_predictions = staticmethod(pack_predictions)
