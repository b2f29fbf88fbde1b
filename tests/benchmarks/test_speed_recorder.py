"""``benchmarks/speed_lib``: the recorder keeps, through forward hooks on
the snippet head and the post-processor, exactly the inputs that
``HRPro.predict`` gives candidate generation and soft-NMS; the comparison
against the naive references agrees on them, and a difference makes the
benchmark exit non-zero."""
import json
import os.path as osp
import sys

import pytest
import torch
from mmengine.structures import InstanceData

import hrpro_plugin  # noqa: F401
from hrpro_plugin.models.proposals.candidates import (ATTN_THRESHOLDS,
                                                      CAS_THRESHOLDS,
                                                      generate_candidates)
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from _helpers import REPO_ROOT, load_script

sys.path.insert(0, osp.join(REPO_ROOT, 'benchmarks'))
from speed_lib import proposal_bench as bench  # noqa: E402
from speed_lib import report as report_mod  # noqa: E402
from speed_lib.recorder import Recorder  # noqa: E402

C, D = 3, 16


def _model():
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='HRPro', feat_dim=D, num_classes=C,
        neck=dict(type='RABNeck', num_heads=4), head=dict(type='SnippetHead'),
        # every key, as configs/_base_/models/hrpro.py (the naive code
        # takes no defaults for the thresholds)
        proposal_cfg=dict(cas_thresholds=list(CAS_THRESHOLDS),
                          attn_thresholds=list(ATTN_THRESHOLDS),
                          class_thresh=0.2, outer_ratio=0.25, scale=2)))
    model.memory.prototypes.normal_()
    model.memory.initialized.fill_(True)
    return model.eval()


def _samples(lengths, seconds=0.64):
    out = []
    for i, T in enumerate(lengths):
        ds = ActionDataSample()
        ds.set_metainfo(dict(video_name=f'v{i}', num_snippets=T,
                             snippet_seconds=seconds, duration=T * seconds,
                             fps=30.0))
        ds.gt_instances = InstanceData(segments=torch.zeros(0, 2),
                                       labels=torch.zeros(0,
                                                          dtype=torch.long))
        out.append(ds)
    return out


def _record(model, batches):
    with torch.no_grad(), Recorder(model) as rec:
        for lengths in batches:
            feats = torch.randn(len(lengths), max(lengths), D)
            model.predict(feats, _samples(lengths))
    return rec


def test_records_what_predict_passes_on():
    model = _model()
    rec = _record(model, [[12, 7], [9]])
    assert len(rec.candidates) == len(rec.nms) == 2
    fused, attn, vs, mask, cfg = rec.candidates[0]
    assert fused.shape == (2, 12, C) and attn.shape == (2, 12)
    assert vs.shape == (2, C) and mask.sum(1).tolist() == [12, 7]
    assert fused.dtype == torch.float32
    assert cfg == model.proposal_cfg and cfg is not model.proposal_cfg
    # stage 1, no cap, no length offset: soft-NMS gets the candidates
    for (f, a, v, m, c), (seg, score, label, batch_idx) in zip(
            rec.candidates, rec.nms):
        cand = generate_candidates(f, a, v, m, **c)
        assert len(cand['score']) > 0
        torch.testing.assert_close(
            seg, torch.stack([cand['start'], cand['end']], -1))
        torch.testing.assert_close(score, cand['score'])
        assert torch.equal(label, cand['label'])
        assert torch.equal(batch_idx, cand['batch_idx'])


def test_hooks_are_removed_on_exit():
    model = _model()
    rec = _record(model, [[5]])
    assert not model.head._forward_hooks
    assert not model.post_processor._forward_hooks
    with torch.no_grad():
        model.predict(torch.randn(1, 6, D), _samples([6]))
    assert len(rec.candidates) == len(rec.nms) == 1


def test_keyword_calls_are_recorded():
    model = _model()
    with Recorder(model) as rec:
        out = model.head(torch.randn(1, 4, D),
                         mask=torch.ones(1, 4, dtype=torch.bool))
        seg = torch.tensor([[0., 2.], [1., 3.]])
        model.post_processor(segments=seg, scores=torch.tensor([.9, .8]),
                             labels=torch.tensor([0, 0]),
                             batch_idx=torch.tensor([0, 0]))
    assert rec.candidates[0][0] is out['fused_cas']
    assert rec.candidates[0][3].all() and rec.nms[0][0] is seg
    with Recorder(model), pytest.raises(RuntimeError, match='without a '):
        model.post_processor(seg, torch.tensor([.9, .8]),
                             torch.tensor([0, 0]), torch.tensor([0, 0]))


def test_comparison_agrees_and_a_difference_fails_the_run(tmp_path,
                                                          monkeypatch):
    model = _model()
    rec = _record(model, [[12, 7], [9, 9, 3]])
    with torch.no_grad():
        pb = bench.proposal_bench(rec, model, 'cpu', 1)
    for key in ('candidates', 'soft_nms'):
        assert pb[key]['same_outputs'] is True, pb[key]['error']
        assert pb[key]['batches'] == 2 and pb[key]['proposals'] > 0
    assert bench.mismatches(pb) == []

    naive = bench._naive.naive_generate_candidates

    def off_by_a_bit(*args, **kw):
        out = naive(*args, **kw)
        out['score'] = out['score'] + 1e-3
        return out

    monkeypatch.setattr(bench._naive, 'naive_generate_candidates',
                        off_by_a_bit)
    with torch.no_grad():
        bad = bench.proposal_bench(rec, model, 'cpu', 1, max_batches=1)
    assert bad['candidates']['same_outputs'] is False
    assert 'test batch 0' in bad['candidates']['error']
    assert bad['soft_nms']['same_outputs'] is True
    assert bench.mismatches(bad) == ['candidates']
    # main()'s last step: speed.json is written, then the run exits non-zero
    speed = load_script('benchmarks/speed.py', 'speed_bench_recorder')
    monkeypatch.setattr(report_mod, 'report',
                        lambda res: 'table')
    with pytest.raises(SystemExit) as exc:
        speed.write_and_check(dict(proposal_bench=bad), str(tmp_path),
                              speed_timeline())
    # a message as the code: Python prints it and exits with status 1
    assert isinstance(exc.value.code, str)
    assert 'differ: candidates' in exc.value.code
    with open(tmp_path / 'speed.json') as f:
        assert json.load(f)['proposal_bench']['candidates'][
            'same_outputs'] is False


def speed_timeline():
    from speed_lib.timeline import Timeline
    return Timeline(cuda=False)
