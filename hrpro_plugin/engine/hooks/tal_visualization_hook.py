"""Plots of test predictions against the ground truth (``tools/test.py
--show-dir`` / ``--show``)."""
import os
import os.path as osp
import tempfile
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmaction.registry import HOOKS


def _get(sample, key):
    return sample.get(key) if isinstance(sample, dict) else getattr(
        sample, key, None)


@HOOKS.register_module()
class TALVisualizationHook(Hook):
    """Draw every ``interval``-th test video: ground truth, and the top
    predictions one lane per overlapping box (``hrpro_plugin.visualization
    .plot_video``, the plots of ``tools/visualize.py``).

    MMAction2's ``VisualizationHook`` draws frames of recognition samples;
    a localization result is a set of time intervals, hence this hook.

    Args:
        out_dir (str, optional): write ``<out_dir>/<video>.png``; a relative
            path is taken under the run's log folder
            (``<work_dir>/<timestamp>/``), as MMAction2 does.
        show (bool): also open each plot in a window (needs a display).
        wait_time (float): seconds each shown plot stays up.
        interval (int): plot every ``interval``-th video (1: all).
        top_k (int): predictions drawn a video.
    """

    priority = 'LOW'

    def __init__(self, out_dir: Optional[str] = None, show: bool = False,
                 wait_time: float = 2.0, interval: int = 1, top_k: int = 10):
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        if out_dir is None and not show:
            raise ValueError('TALVisualizationHook needs out_dir or show')
        self.out_dir, self.show = out_dir, bool(show)
        self.wait_time, self.interval = float(wait_time), int(interval)
        self.top_k = int(top_k)
        self._count = 0
        self._written = 0

    def before_test(self, runner) -> None:
        from ...visualization import require_matplotlib
        require_matplotlib()
        if self.show:
            import matplotlib
            import matplotlib.pyplot as plt  # noqa: F401
            if matplotlib.get_backend().lower() in ('agg', 'pdf', 'svg',
                                                     'ps', 'cairo'):
                raise RuntimeError(
                    f'--show needs a display, but matplotlib uses the '
                    f'non-interactive backend {matplotlib.get_backend()!r}; '
                    'use --show-dir DIR to write the plots instead')
        if self.out_dir is not None and not osp.isabs(self.out_dir):
            self.out_dir = osp.join(runner.log_dir, self.out_dir)
        if self.out_dir is not None:
            os.makedirs(self.out_dir, exist_ok=True)
        # --show without --show-dir: the plots are drawn to a scratch folder
        self._scratch = (tempfile.mkdtemp(prefix='hrpro_show_')
                         if self.out_dir is None else None)
        self._count = self._written = 0
        self._classes = runner.test_dataloader.dataset.metainfo['classes']

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        for sample in outputs or []:
            k, self._count = self._count, self._count + 1
            if k % self.interval == 0:
                self._draw(sample)

    def _draw(self, sample) -> None:
        from ...visualization import plot_video
        meta = _get(sample, 'metainfo') or {}
        video = meta.get('video_name') or _get(sample, 'video_name')
        gt, pred = _get(sample, 'gt_instances'), _get(sample, 'pred_instances')
        preds = dict(segments=_get(pred, 'segments').cpu().numpy(),
                     labels=_get(pred, 'labels').cpu().numpy(),
                     scores=_get(pred, 'scores').cpu().numpy())
        out_file = (osp.join(self.out_dir, f'{video}.png')
                    if self.out_dir is not None else None)
        target = out_file or osp.join(self._scratch, f'{video}.png')
        plot_video(video, _get(gt, 'segments').cpu().numpy(),
                   _get(gt, 'labels').cpu().numpy(), preds, self._classes,
                   target, duration=meta.get('duration'), top_k=self.top_k)
        self._written += out_file is not None
        if self.show:
            import matplotlib.image as mpimg
            import matplotlib.pyplot as plt
            plt.figure(video)
            plt.imshow(mpimg.imread(target))
            plt.axis('off')
            plt.show(block=False)
            plt.pause(self.wait_time)
            plt.close()

    def after_test(self, runner) -> None:
        if self.out_dir is not None:
            print_log(f'{self._written} plots written to {self.out_dir}',
                      logger='current')

