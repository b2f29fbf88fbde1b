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
def test_visualize_tool_writes_pngs(tiny_run, tmp_path):
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

    with pytest.raises(SystemExit, match='not in the test set'):
        tool.main([config, ckpt, '--data-root', tiny_run['data_root'],
                   '--videos', 'nope', '--out-dir', str(out_dir)])
    with pytest.raises(SystemExit, match='not found'):
        tool.main([config, ckpt, '--data-root', tiny_run['data_root'],
                   '--videos', 'synthetic_train_0001', '--split', 'train',
                   '--show-train-mining', '--proposal-file',
                   str(tmp_path / 'none.pt'), '--out-dir', str(out_dir)])
