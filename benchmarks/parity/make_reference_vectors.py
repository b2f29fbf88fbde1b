"""Write the reference test vectors: the outputs of the authors' HR-Pro code
(github.com/pipixin321/HR-Pro) on fixed random inputs, as numbers only.

    python benchmarks/parity/make_reference_vectors.py \
        --reference /path/to/HR-Pro --out tests/data/reference

The authors' code is imported from ``--reference`` (a checkout outside this
repository) and run as it is; nothing of it is copied here. It needs scipy,
pandas, tqdm and torchvision next to torch (put them on ``PYTHONPATH``, e.g.
``pip install --target DIR scipy pandas tqdm torchvision``). Two stand-ins
keep its imports light, and neither changes a computed number:

* its ``log`` module (tensorboard logging and the evaluator) is replaced by
  a module with the names it imports;
* where torchvision's compiled operators cannot load (a CUDA wheel on a CPU
  machine), ``torchvision.ops.roi_align`` is torchvision's own pure-PyTorch
  implementation of the same operator (the one torchvision itself falls
  back to), loaded from the installed torchvision.

Each output file is JSON: ``{"inputs": ..., "outputs": ...}``. The tests in
``tests/parity/`` feed the same inputs to this package and compare.
"""
import argparse
import importlib.util
import json
import os
import os.path as osp
import random
import sys
import tempfile
import types

import numpy as np
import torch


def _stub_log():
    mod = types.ModuleType('log')
    mod.color = lambda text, *a, **k: text
    mod.log_evaluate = lambda *a, **k: 0.0
    sys.modules['log'] = mod


def _torchvision_roi_align():
    """``torchvision.ops.roi_align``, or torchvision's pure-PyTorch version
    of it where the compiled operators do not load."""
    try:
        import torchvision  # noqa: F401
        from torchvision.ops import roi_align
        return roi_align
    except Exception:  # noqa: BLE001 - compiled ops missing
        for k in [k for k in sys.modules if k.startswith('torchvision')]:
            del sys.modules[k]
    spec = importlib.util.find_spec('torchvision')
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit('torchvision is not installed (pip install '
                         'torchvision into a folder on PYTHONPATH)')
    root = list(spec.submodule_search_locations)[0]
    tv = types.ModuleType('torchvision')
    tv.__path__ = [root]
    ext = types.ModuleType('torchvision.extension')
    ext._has_ops = lambda: False
    ext._assert_has_ops = lambda: None
    utl = types.ModuleType('torchvision.utils')
    utl._log_api_usage_once = lambda *a, **k: None
    ops = types.ModuleType('torchvision.ops')
    ops.__path__ = [osp.join(root, 'ops')]
    sys.modules.update({'torchvision': tv, 'torchvision.extension': ext,
                        'torchvision.utils': utl, 'torchvision.ops': ops})

    def load(name, path):
        s = importlib.util.spec_from_file_location(name, path)
        m = importlib.util.module_from_spec(s)
        sys.modules[name] = m
        s.loader.exec_module(m)
        return m

    load('torchvision.ops._utils', osp.join(root, 'ops', '_utils.py'))
    ra = load('torchvision.ops.roi_align', osp.join(root, 'ops', 'roi_align.py'))
    # no torch.compile: call the plain function under the lazy wrapper
    ra._roi_align = getattr(ra._roi_align, '__wrapped__', ra._roi_align)
    ops.roi_align = ra.roi_align
    tv.ops = ops
    return ra.roi_align


def _args(**kw):
    a = types.SimpleNamespace(
        scale=2, class_thresh=0.5, _lambda=0.25, gamma=0,
        act_thresh_cas=np.arange(0.0, 0.25, 0.025),
        act_thresh_agnostic=np.arange(0.5, 0.725, 0.025),
        frames_per_sec=25, segment_frames_num=16, mode='test',
        dataset='synthetic', device=torch.device('cpu'), seed=0,
        dropout=0.7, max_proposal=1000)
    for k, v in kw.items():
        setattr(a, k, v)
    return a


class _FixedNet:
    """Stands in for the stage-1 network: returns given outputs."""

    def __init__(self, outputs):
        self.outputs = outputs
        self.calls = 0

    def eval(self):
        return self

    def __call__(self, data):
        out = self.outputs[self.calls]
        self.calls += 1
        return out


def _tolist(x):
    return np.asarray(x, dtype=np.float64).tolist()


def candidates_vectors(ref):
    """The reference's whole stage-1 proposal generation (``S_test`` in its
    'test' mode: every candidate, before NMS) on random CAS."""
    rng = np.random.default_rng(0)
    videos = []
    C = 3
    for i, T in enumerate([2, 3, 7, 16, 40, 97]):
        # smooth-ish curves in [0, 1] so that runs have various lengths
        base = rng.random((T, C + 1))
        for _ in range(2):
            base[1:-1] = (base[:-2] + base[1:-1] + base[2:]) / 3
        cas_fuse = base.astype(np.float32)
        cas_fuse[:, :C] *= 0.45
        vid_score = rng.random(C).astype(np.float32)
        videos.append(dict(name=f'v{i}', cas_fuse=cas_fuse,
                           vid_score=vid_score))
    outs = [dict(vid_score=torch.from_numpy(v['vid_score'])[None],
                 cas_fuse=torch.from_numpy(v['cas_fuse'])[None])
            for v in videos]
    loader = [dict(data=torch.zeros(1, v['cas_fuse'].shape[0], 4),
                   vid_label=torch.zeros(1, C), vid_name=[v['name']],
                   vid_len=torch.tensor([v['cas_fuse'].shape[0]]),
                   vid_duration=torch.tensor([v['cas_fuse'].shape[0] * 0.64]))
              for v in videos]
    with tempfile.TemporaryDirectory() as tmp:
        args = _args(num_class=C, output_path_s1=tmp,
                     class_name_lst=[str(c) for c in range(C)])
        ref['test'].S_test(_FixedNet(outs), args, loader, None, 0, {},
                           subset='test')
        with open(osp.join(tmp, 'snippet_result_test.json')) as f:
            res = json.load(f)['results']
    up = {v['name']: _tolist(ref['utils'].upgrade_resolution(
        v['cas_fuse'], 2)) for v in videos}
    return dict(
        inputs=dict(videos=[dict(name=v['name'],
                                 cas_fuse=_tolist(v['cas_fuse']),
                                 vid_score=_tolist(v['vid_score']))
                            for v in videos]),
        outputs=dict(
            # per video: [start_s, end_s, label, score] in the order made
            candidates={n: [[p['segment'][0], p['segment'][1],
                             int(p['label']), p['score']] for p in r]
                        for n, r in res.items()},
            upsampled=up))


def pseudo_snippet_vectors(ref):
    rng = np.random.default_rng(1)
    cases = []
    for T, C, n_pts in [(12, 2, 2), (30, 3, 4), (30, 3, 1), (50, 4, 6),
                        (9, 2, 3), (25, 2, 5)]:
        bkg = rng.random(T)
        # push values past the thresholds (0.1 and 0.95) in places
        bkg = np.where(rng.random(T) < 0.3, 0.97, bkg)
        bkg = np.where(rng.random(T) < 0.3, 0.05, bkg).astype(np.float32)
        anno = np.zeros((T, C), dtype=np.float32)
        idx = rng.choice(T, size=n_pts, replace=False)
        for t in idx:
            anno[t, rng.integers(C)] = 1
        if n_pts > 2:
            anno[idx[0], (int(np.argmax(anno[idx[0]])) + 1) % C] = 1
        act, bg = ref['utils'].select_seed(torch.from_numpy(bkg)[None],
                                           torch.from_numpy(anno)[None])
        cases.append(dict(bkg=_tolist(bkg), point_anno=_tolist(anno),
                          act_seed=_tolist(act[0].numpy()),
                          bkg_seed=_tolist(bg[0].numpy())))
    return dict(inputs={}, outputs=dict(cases=cases))


def soft_nms_vectors(ref):
    rng = np.random.default_rng(2)
    groups = []
    for n in [1, 2, 7, 30, 80]:
        s = rng.random(n) * 40
        e = s + rng.random(n) * 6 + 0.05
        sc = rng.random(n) * 1.5
        dets = np.stack([s, e, np.zeros(n), sc], 1)
        kept = ref['utils'].soft_nms(dets.tolist(), sigma=0.3)
        groups.append(dict(dets=_tolist(dets), kept=_tolist(kept)))
    return dict(inputs={}, outputs=dict(groups=groups))


def ambiguous_vectors(ref):
    rng = np.random.default_rng(3)
    amb = [['v', '', f'{a:.1f}', f'{a + w:.1f}'] for a, w in
           zip(rng.random(6) * 60, rng.random(6) * 4 + 0.1)]
    s = rng.random(200) * 64
    e = s + rng.random(200) * 3
    seg = np.stack([s, e, np.zeros(200), rng.random(200)], 1)
    kept = ref['utils'].filter_segments(seg, 'v', amb)
    return dict(inputs=dict(ambiguous=[[float(a[2]), float(a[3])]
                                       for a in amb],
                            segments=_tolist(seg[:, :2])),
                outputs=dict(kept=_tolist(np.asarray(kept)[:, :2])))


class _Loader(list):
    """A list of samples with the ``dataset`` attribute the code reads."""


def _fake_loaders(names, durations, points_df, fps, T, point_labels):
    import pandas as pd
    ds = types.SimpleNamespace(point_anno=pd.DataFrame(points_df),
                               gt_dict={n: dict(fps=fps) for n in names})
    train = _Loader(
        dict(data=torch.zeros(1, T[i], 4), vid_name=[n],
             vid_duration=[durations[i]],
             point_label=torch.from_numpy(point_labels[i])[None])
        for i, n in enumerate(names))
    train.dataset = ds
    test = _Loader([dict(data=torch.zeros(1, 4, 4), vid_name=['t0'],
                         vid_duration=[2.56])])
    test.dataset = ds
    return train, test


def mining_vectors(ref):
    """RP of the reference's ``reliability_ranking`` (its ``match_point`` on
    the candidates and the point times) and NP draw frequencies."""
    rng = np.random.default_rng(4)
    fps, C = 30.0, 3
    names, T, durations, pls, pts, results, bkg = [], [], [], [], [], {}, {}
    for i in range(4):
        n = f'tr{i}'
        t_len = int(rng.integers(20, 60))
        names.append(n)
        T.append(t_len)
        durations.append(t_len * 0.64)
        # points (frames at 30 fps); two share a frame in video 0
        frames = np.sort(rng.choice(int(t_len * 0.64 * fps) - 1, size=5,
                                    replace=False)).astype(float)
        if i == 0:
            frames[2] = frames[1]
        labels = rng.integers(C, size=5)
        pl = np.zeros((t_len, C), dtype=np.float32)
        for f, c in zip(frames, labels):
            pts.append(dict(video_id=n, point=f, **{'class': str(int(c))}))
            pl[int(f * 25 / (fps * 16)), c] = 1
        pls.append(pl)
        # candidate proposals on the 0.32 s grid, some containing points
        props = []
        for _ in range(60):
            a = int(rng.integers(0, 2 * t_len - 1))
            b = int(rng.integers(a + 1, min(2 * t_len, a + 25) + 1))
            props.append(dict(label=str(int(rng.integers(C))),
                              segment=[a * 0.32, b * 0.32],
                              score=float(rng.random() * 1.2 - 0.2)))
        results[n] = props
        b = rng.random(t_len)
        bkg[n] = np.where(rng.random(t_len) < 0.5, 0.98, b).tolist()
    # an NP frequency case: one video whose background seeds form runs of
    # 1, 2, 3, 4 and 6 snippets (one run between two points each) and one
    # more of 1 after the last point
    names.append('np')
    T.append(40)
    durations.append(40 * 0.64)
    b = np.zeros(40)
    seeds = [2, 5, 6, 10, 11, 12, 20, 21, 22, 23, 30, 31, 32, 33, 34, 35]
    b[seeds] = 0.99
    bkg['np'] = b.tolist()
    pl = np.zeros((40, C), dtype=np.float32)
    for snip in (0, 4, 8, 15, 26, 38):
        pl[snip, 0] = 1
        pts.append(dict(video_id='np', point=snip * 16 * fps / 25,
                        **{'class': '0'}))
    pls.append(pl)
    n_pp = 40000
    results['np'] = [dict(label='0', segment=[0.0, 0.32], score=0.1)] * n_pp

    points_df = dict(video_id=[p['video_id'] for p in pts],
                     point=[p['point'] for p in pts],
                     **{'class': [p['class'] for p in pts]})
    train, test = _fake_loaders(names, durations, points_df, fps, T, pls)
    with tempfile.TemporaryDirectory() as tmp:
        for subset, res, extra in (('train', results, dict(bkg_score=bkg)),
                                   ('test', {'t0': []}, {})):
            with open(osp.join(tmp, f'snippet_result_{subset}.json'),
                      'w') as f:
                json.dump(dict(results=res, **extra), f)
        args = _args(output_path_s1=tmp)
        random.seed(0)
        ref['ranking'].reliability_ranking(args, train, test)
        with open(osp.join(tmp, 'proposals.json')) as f:
            mined = json.load(f)['train']
    rp = {n: {lab: [None if p is None else p[:3] for p in lst]
              for lab, lst in mined[n]['RP'].items()} for n in names[:-1]}
    np_draws = np.asarray(mined['np']['NP'])[:, :2]
    uniq, counts = np.unique(np_draws, axis=0, return_counts=True)
    return dict(
        inputs=dict(fps=fps, num_classes=C,
                    videos=[dict(name=n, num_snippets=T[i],
                                 candidates=results[n], bkg=bkg[n])
                            for i, n in enumerate(names[:-1])],
                    points=pts, np_bkg=bkg['np'], np_num_pp=n_pp),
        outputs=dict(rp=rp,
                     np_intervals=_tolist(uniq),
                     np_counts=counts.tolist()))


def roi_and_head_vectors(ref):
    """RoI features, head outputs and stage-2 losses of the reference's
    ``I_Model`` on random features, proposals and RPs."""
    torch.manual_seed(5)
    D = 8
    args = _args(feature_dim=D, dropout=0.7, max_proposal=1000)
    net = ref['model_I'].I_Model(args)
    net.eval()   # no dropout; losses still computed with is_training=True
    feats = [torch.randn(13, D), torch.randn(30, D), torch.randn(2, D)]
    props = []
    for f in feats:
        T = f.shape[0]
        s = torch.rand(7) * T
        w = torch.rand(7) * T * 0.6
        p = torch.stack([s, s + w], 1)
        p[0] = torch.tensor([0.0, float(T)])          # the whole video
        p[1] = torch.tensor([T - 0.2, T - 0.1])       # shorter than 1
        props.append(p)
    # RPs: copies of some proposals, slightly moved, so that every video
    # has at least as many positives as negatives (the reference's
    # negative sampling then keeps every negative: no randomness)
    rps = [p[2:7] + 0.05 for p in props]
    for b in range(len(props)):
        r = rps[b]
        mid, half = (r[:, 0] + r[:, 1]) / 2, (r[:, 1] - r[:, 0]) / 2
        props[b] = torch.cat([props[b], r - 0.05,
                              torch.stack([mid - 0.9 * half,
                                           mid + 0.9 * half], 1)])
    with torch.no_grad():
        pf, _ = net.extract_roi_features(feats, props, is_training=False)
        out = net(feats, props, rps, is_training=True)
        # the same operator in float64 (its buffers follow the default
        # dtype): separates the algorithm from float32 rounding
        old = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            pf64, _ = net.extract_roi_features(
                [f.double() for f in feats], [p.double() for p in props],
                is_training=False)
        finally:
            torch.set_default_dtype(old)
    state = {k: _tolist(v) for k, v in net.state_dict().items()}
    return dict(
        inputs=dict(features=[_tolist(f) for f in feats],
                    proposals=[_tolist(p) for p in props],
                    rps=[_tolist(r) for r in rps], state_dict=state),
        outputs=dict(
            roi_features=[_tolist(pf[b, :len(props[b])])
                          for b in range(len(props))],
            roi_features_float64=[_tolist(pf64[b, :len(props[b])])
                                  for b in range(len(props))],
            iou_pred_orig=[_tolist(out['iou_pred_orig'][b, :len(props[b]), 0])
                           for b in range(len(props))],
            iou_pred_refined=[_tolist(out['iou_pred_refined'][b, :len(props[b]), 0])
                              for b in range(len(props))],
            prop_refined=[_tolist(p) for p in out['prop_refined']],
            reg_loss=float(out['reg_loss']), iou_loss=float(out['iou_loss'])))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--reference', required=True,
                   help="a checkout of the authors' HR-Pro repository")
    p.add_argument('--out', default='tests/data/reference')
    a = p.parse_args()
    sys.path.insert(0, osp.abspath(a.reference))
    _stub_log()
    _torchvision_roi_align()
    import model_I  # noqa: E402  (the authors' modules)
    import ranking
    import test as ref_test
    import utils
    ref = dict(utils=utils, ranking=ranking, model_I=model_I, test=ref_test)
    os.makedirs(a.out, exist_ok=True)
    for name, fn in (('candidates', candidates_vectors),
                     ('pseudo_snippets', pseudo_snippet_vectors),
                     ('soft_nms', soft_nms_vectors),
                     ('ambiguous', ambiguous_vectors),
                     ('mining', mining_vectors),
                     ('instance_head', roi_and_head_vectors)):
        data = fn(ref)
        path = osp.join(a.out, f'{name}.json')
        with open(path, 'w') as f:
            json.dump(data, f, separators=(',', ':'))
        print(f'{path}: {os.path.getsize(path) / 1024:.0f} KiB')


if __name__ == '__main__':
    main()
