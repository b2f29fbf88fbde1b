"""tools/visualize.py and hrpro_plugin.visualization."""
import os.path as osp
import struct
import sys

import numpy as np
import pytest

from _helpers import REPO_ROOT, load_script, run_tool

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


def png_size(path):
    """(width, height) from the IHDR chunk; checks the signature."""
    with open(path, 'rb') as f:
        head = f.read(24)
    assert head[:8] == PNG_SIGNATURE, f'{path} is not a PNG'
    assert head[12:16] == b'IHDR'
    return struct.unpack('>II', head[16:24])


def test_plot_localization_image_size(tmp_path):
    from hrpro_plugin.visualization import plot_localization
    rng = np.random.default_rng(0)
    T, C = 50, 4
    out = tmp_path / 'v.png'
    kwargs = dict(
        video='v', classes=['a', 'b', 'c', 'd'], snippet_seconds=0.64,
        gt_segments=[[1.0, 5.0], [10.0, 14.0]], gt_labels=[0, 2],
        points=[3.0, 12.0], point_labels=[0, 2],
        pred_segments=rng.uniform(0, 30, (30, 2)).cumsum(1),
        pred_labels=rng.integers(0, C, 30), pred_scores=rng.uniform(size=30),
        top_k=5, fused_cas=rng.uniform(size=(T, C)),
        attn=rng.uniform(size=T))
    size = plot_localization(str(out), width=8.0, dpi=50, **kwargs)
    assert size[0] == 400  # width * dpi
    assert png_size(out) == size and out.stat().st_size > 0
    # mining rows make the figure taller, same width
    size2 = plot_localization(
        str(tmp_path / 'm.png'), width=8.0, dpi=50,
        pseudo_action=rng.uniform(size=(T, C)) > 0.9,
        pseudo_background=rng.uniform(size=T) > 0.5,
        proposals={'RP': ([[1.0, 4.0]], [0]),
                   'PP': ([[0.5, 4.0], [1.0, 6.0], [2.0, 3.0]], [0, 0, 2]),
                   'NP': ([[20.0, 22.0]], None)}, **kwargs)
    assert size2[0] == 400 and size2[1] > size[1]
    assert png_size(tmp_path / 'm.png') == size2


def test_missing_matplotlib_is_a_clear_error(monkeypatch):
    from hrpro_plugin.visualization import plot, require_matplotlib
    for name in list(sys.modules):
        if name == 'matplotlib' or name.startswith('matplotlib.'):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, 'matplotlib', None)
    with pytest.raises(ImportError, match='pip install matplotlib'):
        require_matplotlib()
    with pytest.raises(ImportError, match='pip install matplotlib'):
        plot.plot_localization('x.png', video='v', classes=['a'],
                               snippet_seconds=1.0)


def test_package_does_not_import_visualization():
    text = open(osp.join(REPO_ROOT, 'hrpro_plugin', '__init__.py')).read()
    assert 'visualization' not in text


@pytest.mark.slow
def test_visualize_tool_writes_pngs(tiny_run, tmp_path, monkeypatch):
    wd = tiny_run['work_dir']
    config = osp.join(wd, 'hrpro_synthetic.py')
    ckpt = osp.join(wd, 'stage2.pth')
    out_dir = tmp_path / 'vis'
    videos = ['synthetic_test_0000', 'synthetic_test_0003']
    proc = run_tool('tools/visualize.py', config, ckpt, '--data-root',
                    tiny_run['data_root'], '--videos', *videos, '--out-dir',
                    out_dir, '--top-k', 5)
    sizes = []
    for v in videos:
        png = out_dir / f'{v}.png'
        assert f'{v}: {png}' in proc.stdout
        w, h = png_size(png)
        assert f'({w}x{h} px)' in proc.stdout
        assert w == 1200 and h > 300 and png.stat().st_size > 1000
        sizes.append(h)

    # training video with the mining view (in-process: faster)
    tool = load_script('tools/visualize.py', '_tool_visualize')
    written = tool.main([
        config, ckpt, '--data-root', tiny_run['data_root'], '--videos',
        'synthetic_train_0001', '--split', 'train', '--show-train-mining',
        '--out-dir', str(out_dir), '--width', '10', '--dpi', '80'
    ])
    assert written == [str(out_dir / 'synthetic_train_0001.png')]
    w, h = png_size(written[0])
    assert w == 800 and h > 0
    plain = tool.main([
        config, ckpt, '--data-root', tiny_run['data_root'], '--videos',
        'synthetic_train_0001', '--split', 'train', '--out-dir',
        str(tmp_path / 'plain'), '--width', '10', '--dpi', '80'
    ])
    # pseudo action / bg + RP / PP / NP rows add height
    assert png_size(plain[0])[0] == 800 and png_size(plain[0])[1] < h

    # a test video's title says nothing about points (the test set has none);
    # without --videos the first --max-videos are drawn
    from matplotlib.figure import Figure
    titles = []
    original = Figure.savefig

    def spy(self, *args, **kwargs):
        titles.append(self.axes[0].get_title())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Figure, 'savefig', spy)
    first = tool.main([config, ckpt, '--data-root', tiny_run['data_root'],
                       '--max-videos', '1', '--out-dir',
                       str(tmp_path / 'first'), '--dpi', '40'])
    assert first == [str(tmp_path / 'first' / 'synthetic_test_0000.png')]
    assert titles[0].startswith('synthetic_test_0000 | ')
    assert 'point' not in titles[0]

    with pytest.raises(SystemExit, match='not in the test set'):
        tool.main([config, ckpt, '--data-root', tiny_run['data_root'],
                   '--videos', 'nope', '--out-dir', str(out_dir)])
    with pytest.raises(SystemExit, match='not found'):
        tool.main([config, ckpt, '--data-root', tiny_run['data_root'],
                   '--videos', 'synthetic_train_0001', '--split', 'train',
                   '--show-train-mining', '--proposal-file',
                   str(tmp_path / 'none.pt'), '--out-dir', str(out_dir)])


# ------------------------------------------------------------ results mode
def _write_results(data_root, path, shift, version='HR-Pro'):
    """Predictions made from the test ground truth (shifted by ``shift`` s,
    plus one whole-video box a video): no model needed."""
    import json
    from hrpro_plugin.evaluation.functional import (load_ground_truth,
                                                    write_results)
    gt, classes = load_ground_truth(osp.join(data_root, 'gt_full.json'),
                                    osp.join(data_root, 'split_test.txt'))
    preds = {}
    for v, (segs, labels) in gt.items():
        end = float(segs[:, 1].max()) if len(segs) else 10.0
        preds[v] = (np.vstack([segs + shift, [[0.0, end]]]),
                    np.append(labels, 0),
                    np.append(np.linspace(1.5, 0.5, len(segs)), 0.96))
    write_results(str(path), preds, classes)
    if version != 'HR-Pro':
        data = json.loads(path.read_text())
        data['version'] = version
        path.write_text(json.dumps(data))
    return list(gt)


@pytest.fixture
def tool():
    return load_script('tools/visualize.py', '_tool_visualize')


def test_results_mode_one_png_a_video(tiny_dataset, tmp_path, tool, capsys):
    res = tmp_path / 'a' / 'results.json'
    res.parent.mkdir()
    videos = _write_results(tiny_dataset, res, 0.3)
    assert len(videos) == 5
    written = tool.main(['--results', str(res), '--data-root', tiny_dataset,
                         '--all', '--width', '8', '--dpi', '50'])
    # default folder: vis/ next to the results file
    assert written == [str(tmp_path / 'a' / 'vis' / f'{v}.png')
                       for v in videos]
    out = capsys.readouterr().out
    for path in written:
        w, h = png_size(path)
        assert w == 400 and f'{path} ({w}x{h} px)' in out


def test_results_mode_max_videos_and_choice(tiny_dataset, tmp_path, tool,
                                            capsys):
    res = tmp_path / 'results.json'
    videos = _write_results(tiny_dataset, res, 0.0)
    out_dir = tmp_path / 'vis'
    written = tool.main(['--results', str(res), '--data-root', tiny_dataset,
                         '--max-videos', '2', '--out-dir', str(out_dir),
                         '--dpi', '40'])
    assert written == [str(out_dir / f'{v}.png') for v in videos[:2]]
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        f'{v}.png' for v in videos[:2])
    assert 'plotting the first 2 of 5 videos' in capsys.readouterr().out
    # default: a handful (5 here = all); --videos picks
    assert len(tool.main(['--results', str(res), '--data-root', tiny_dataset,
                          '--out-dir', str(out_dir), '--dpi', '40'])) == 5
    assert tool.DEFAULT_MAX_VIDEOS == 5
    picked = tool.main(['--results', str(res), '--gt',
                        osp.join(tiny_dataset, 'gt_full.json'),
                        '--split-file', osp.join(tiny_dataset,
                                                 'split_test.txt'),
                        '--videos', videos[3], '--out-dir',
                        str(tmp_path / 'one'), '--dpi', '40'])
    assert picked == [str(tmp_path / 'one' / f'{videos[3]}.png')]
    with pytest.raises(SystemExit, match='nope.*not in the split'):
        tool.main(['--results', str(res), '--data-root', tiny_dataset,
                   '--videos', 'nope', '--out-dir', str(out_dir)])


def test_results_mode_side_by_side(tiny_dataset, tmp_path, tool,
                                   figures):
    saved = figures
    a, b = tmp_path / 'a.json', tmp_path / 'b.json'
    videos = _write_results(tiny_dataset, a, 0.0)
    _write_results(tiny_dataset, b, 1.0, version='other method')
    single = tool.main(['--results', str(a), '--data-root', tiny_dataset,
                        '--videos', videos[0], '--out-dir',
                        str(tmp_path / 's'), '--dpi', '40'])
    title = saved[-1].axes[0].get_title()
    assert title.startswith(f'{videos[0]} | ') and 'point' not in title
    from hrpro_plugin.visualization import GENERIC_SCORE_NOTE, \
        HRPRO_SCORE_NOTE
    assert HRPRO_SCORE_NOTE in [t.get_text() for t in saved[-1].texts]
    both = tool.main(['--results', str(a), '--results', str(b), '--names',
                      'mine', 'theirs', '--data-root', tiny_dataset,
                      '--videos', videos[0], '--out-dir',
                      str(tmp_path / 'c'), '--dpi', '40'])
    rows = [t.get_text() for t in saved[-1].axes[0].get_yticklabels()]
    assert rows[0].startswith('GT ') and rows[1].startswith('mine: ') and \
        rows[2].startswith('theirs: ')
    assert saved[-1].axes[0].get_title().endswith('| mine vs theirs')
    # one results file is not HR-Pro's: the generic score line
    assert GENERIC_SCORE_NOTE in [t.get_text() for t in saved[-1].texts]
    w1, h1 = png_size(single[0])
    w2, h2 = png_size(both[0])
    assert w1 == w2 and h2 > h1
    # default names: the file stems
    tool.main(['--results', str(a), '--results', str(b), '--data-root',
               tiny_dataset, '--videos', videos[0], '--out-dir',
               str(tmp_path / 'c'), '--dpi', '40'])
    assert saved[-1].axes[0].get_title().endswith('| a vs b')


def test_arguments_of_the_two_modes(tiny_dataset, tmp_path, tool, capsys):
    res = tmp_path / 'r.json'
    _write_results(tiny_dataset, res, 0.0)
    for argv in ([], ['cfg.py'], ['cfg.py', 'ckpt.pth', '--results',
                                   str(res)],
                 ['--results', str(res), '--names', 'x', 'y'],
                 ['--results', str(res), '--all', '--videos', 'v']):
        with pytest.raises(SystemExit) as err:
            tool.parse_args(argv)
        assert err.value.code == 2, argv
    assert 'without a model use --results' in capsys.readouterr().err
    with pytest.raises(SystemExit, match='needs --gt'):
        tool.main(['--results', str(res)])
    with pytest.raises(SystemExit, match='no_such_class'):
        import json
        data = json.loads(res.read_text())
        first = next(iter(data['results'].values()))
        first[0]['label'] = 'no_such_class'
        res.write_text(json.dumps(data))
        tool.main(['--results', str(res), '--data-root', tiny_dataset])


# ------------------------------------------------------------- model mode
def _untrained_checkpoint(data_root, path):
    """A checkpoint of an untrained stage-2 model of the tiny config
    (random weights: no training needed to test the wiring); returns the
    ``--cfg-options`` that the tool needs to build the same model."""
    import torch
    from mmengine.config import Config

    import hrpro_plugin  # noqa: F401
    from _helpers import TINY_MODEL_OPTIONS
    from hrpro_plugin.apis import apply_data_root
    from mmaction.registry import DATASETS, MODELS
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'hrpro_synthetic.py'))
    cfg.merge_from_dict({'model.instance_head.hidden_score': [64, 32],
                         'model.instance_head.hidden_reg': 32})
    apply_data_root(cfg, data_root)
    classes = DATASETS.build(cfg.train_dataloader.dataset).metainfo['classes']
    torch.manual_seed(0)
    model = MODELS.build(dict(cfg.model, feat_dim=16,
                              num_classes=len(classes)))
    with torch.no_grad():
        model.memory.prototypes.normal_()
    model.memory.initialized.fill_(True)
    model.switch_to_stage2()
    torch.save(dict(meta=dict(dataset_meta=dict(classes=list(classes))),
                    state_dict=model.state_dict()), path)
    return TINY_MODEL_OPTIONS


def test_model_mode_runs_the_network_once_a_video(tiny_dataset, tmp_path,
                                                  tool, monkeypatch):
    """One pass of the RAB neck and the snippet head a video gives both
    the predictions (those of test_step) and the curves and pseudo
    snippets (those of extract + mine_pseudo_snippets on that video)."""
    import torch

    import hrpro_plugin.apis as apis
    import hrpro_plugin.visualization as vis
    ckpt = str(tmp_path / 'stage2.pth')
    options = _untrained_checkpoint(tiny_dataset, ckpt)
    calls, models = {'neck': 0, 'head': 0}, []
    real_init = apis.init_localizer

    def init_localizer(*args, **kwargs):
        model = real_init(*args, **kwargs)
        for name in calls:
            getattr(model, name).register_forward_hook(
                lambda *a, name=name: calls.__setitem__(name,
                                                        calls[name] + 1))
        models.append(model)
        return model

    drawn = []

    def plot_localization(out_file, **kwargs):
        drawn.append(kwargs)
        return (100, 50)

    monkeypatch.setattr(apis, 'init_localizer', init_localizer)
    monkeypatch.setattr(vis, 'plot_localization', plot_localization)
    videos = ['synthetic_train_0001', 'synthetic_train_0004',
              'synthetic_train_0007']
    config = osp.join(REPO_ROOT, 'configs', 'hrpro_synthetic.py')
    written = tool.main([config, ckpt, '--data-root', tiny_dataset,
                         '--split', 'train', '--show-train-mining',
                         '--videos', *videos, '--out-dir',
                         str(tmp_path / 'vis'), '--cfg-options', *options])
    assert len(written) == len(drawn) == 3
    assert calls == {'neck': 3, 'head': 3}      # once a video, no more

    model = models[0]
    dataset = tool.build_dataset(model.cfg, 'train',
                                 model.dataset_meta['classes'])
    names = [dataset.get_data_info(i)['video_name']
             for i in range(len(dataset))]
    for video, kw in zip(videos, drawn):
        pred, out, act, bg = _reference(model, dataset[names.index(video)])
        assert kw['video'] == video
        assert len(pred) > 0
        assert torch.equal(kw['pred_segments'], pred.segments)
        assert torch.equal(kw['pred_scores'], pred.scores)
        assert torch.equal(kw['fused_cas'], out['fused_cas'][0])
        assert torch.equal(kw['attn'], out['attn'][0])
        assert torch.equal(kw['pseudo_action'], act[0])
        assert torch.equal(kw['pseudo_background'], bg[0])
        assert kw['pseudo_background'].any()


def _reference(model, sample):
    """What the tool drew before it ran the network once: test_step's
    predictions, and extract + mine_pseudo_snippets on the whole video."""
    import torch
    from mmengine.dataset import pseudo_collate

    from hrpro_plugin.models.snippet_level.pseudo_snippets import \
        mine_pseudo_snippets
    from hrpro_plugin.models.utils import batch_point_labels
    ds = sample['data_samples']
    T = int(ds.metainfo['num_snippets'])
    whole = torch.ones(1, T, dtype=torch.bool)
    with torch.no_grad():
        pred = model.test_step(pseudo_collate([sample]))[0].pred_instances
        out = model.extract(sample['inputs'][None], whole)
    act, bg = mine_pseudo_snippets(
        batch_point_labels([ds], T, model.num_classes), out['bg'], whole,
        **model.pseudo_cfg)
    return pred, out, act, bg
