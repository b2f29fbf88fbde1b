"""The video figure's entry points: :func:`plot_localization` (a model's
outputs: predictions, CAS, attention, training-mining rows) and
:func:`plot_video` (ground truth and predictions only, one set or several
side by side). They turn what the caller passes into arrays, choose what to
show and the title, and hand over to :func:`.figure.draw_video`.

Video figure layout (x axis in seconds, shared):

* top panel, one track a row: for each relevant class ``GT <class>`` (ground
  truth segments as bars, point labels as triangles) and ``pred <class>``
  (the top-k predictions); with two or more prediction sets (side-by-side
  comparison) one ``<name>: <class>`` track per set under each ground-truth
  track. The predictions of a track are spread over **lanes** (interval
  greedy, :func:`.layout.assign_lanes`) so that no two boxes of a lane
  overlap, counting the room their score label needs, so every box and
  score stays readable. With training-mining data also ``pseudo action`` /
  ``pseudo bg`` snippets and the ``RP`` / ``PP`` / ``NP`` proposals;
* bottom panel (model mode only): the fused CAS (``S * A``) of the relevant
  classes and the class-agnostic attention ``A``;
* under the figure, a legend of the marks and a line saying what a score is.
"""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .arrays import as_array
from .backend import require_matplotlib
from .figure import draw_video
from .selection import (classes_of_sets, prediction_sets, relevant_classes,
                        top_predictions)
from .text import HRPRO_SCORE_NOTE, video_title

__all__ = ['plot_localization', 'plot_video']


def _mining_rows(pseudo_action, pseudo_background, proposals,
                 sec: float) -> List[tuple]:
    """``[(label, kind, payload)]`` of the training-mining tracks given."""
    rows = []
    if pseudo_action is not None:
        rows.append(('pseudo action', 'act',
                     dict(flags=pseudo_action, sec=sec)))
    if pseudo_background is not None:
        rows.append(('pseudo bg', 'bg', dict(flags=pseudo_background,
                                             sec=sec)))
    for key in ('RP', 'PP', 'NP'):
        if proposals and key in proposals:
            rows.append((key, 'prop', (key, proposals[key])))
    return rows


def plot_localization(out_file: str,
                      *,
                      video: str,
                      classes: Sequence[str],
                      snippet_seconds: float,
                      duration: Optional[float] = None,
                      gt_segments=None,
                      gt_labels=None,
                      points=None,
                      point_labels=None,
                      pred_segments=None,
                      pred_labels=None,
                      pred_scores=None,
                      top_k: int = 10,
                      fused_cas=None,
                      attn=None,
                      show_classes: Optional[Sequence[int]] = None,
                      pseudo_action=None,
                      pseudo_background=None,
                      proposals: Optional[Dict[str, Tuple]] = None,
                      width: float = 12.0,
                      dpi: int = 100,
                      title: Optional[str] = None,
                      score_note: Optional[str] = HRPRO_SCORE_NOTE
                      ) -> Tuple[int, int]:
    """Draw one video with the model's curves and save it as PNG.

    (Over 60 lines only by its keyword arguments and their description.)

    Args:
        out_file: PNG path (parent folder must exist).
        video: name shown in the title.
        classes: class names (label ``i`` is ``classes[i]``).
        snippet_seconds: seconds a snippet covers (x of snippet ``t`` is
            ``(t + 0.5) * snippet_seconds`` for curves).
        duration: video length in seconds (x range); default from the CAS.
        gt_segments, gt_labels: ``[N, 2]`` seconds, ``[N]``.
        points, point_labels: point times in seconds ``[P]``, labels ``[P]``;
            ``points=None`` leaves points out of the title (test sets), an
            empty array makes it say "no point labels".
        pred_segments, pred_labels, pred_scores: predictions; the ``top_k``
            best are drawn.
        fused_cas: ``[T, C]`` fused CAS; attn: ``[T]`` attention.
        show_classes: classes to draw; default
            :func:`.selection.relevant_classes`.
        pseudo_action: ``[T]`` or ``[T, C]`` pseudo action snippets;
            pseudo_background: ``[T]`` bool.
        proposals: ``{'RP': (segments [N, 2] s, labels [N]), 'PP': ...,
            'NP': (segments, None)}``.
        width, dpi: figure width (inches) and resolution.
        title: replaces :func:`.text.video_title`.
        score_note: the line under the legend saying what a score is.

    Returns:
        ``(width_px, height_px)`` of the saved image.
    """
    require_matplotlib()
    sec = float(snippet_seconds)
    gt_seg = as_array(gt_segments, (2, ))
    gt_lab = as_array(gt_labels, dtype=np.int64)
    pts, pt_lab = as_array(points), as_array(point_labels, dtype=np.int64)
    pr_seg, pr_lab, pr_sco = top_predictions(pred_segments, pred_labels,
                                             pred_scores, top_k)
    cas = None if fused_cas is None else as_array(fused_cas,
                                                  (len(classes), ))
    att = None if attn is None else as_array(attn)
    T = (cas.shape[0] if cas is not None else
         att.shape[0] if att is not None else None)
    if duration is None:
        duration = T * sec if T is not None else float(
            max([1.0] + list(gt_seg.ravel()) + list(pr_seg.ravel())))
    shown = list(show_classes) if show_classes is not None else \
        relevant_classes(gt_lab, pr_lab, pr_sco, pt_lab, top_k)
    curves = None if T is None else ((np.arange(T) + 0.5) * sec, cas, att)
    if title is None:
        title = video_title(video, len(gt_seg), points, len(pr_seg),
                            mining=pseudo_action is not None or
                            pseudo_background is not None)
    return draw_video(
        out_file, classes=classes, duration=duration, gt_seg=gt_seg,
        gt_lab=gt_lab, pts=pts, pt_lab=pt_lab,
        pred_sets=OrderedDict(pred=(pr_seg, pr_lab, pr_sco)), shown=shown,
        title=title, score_note=score_note, width=width, dpi=dpi,
        curves=curves, mining_rows=_mining_rows(
            pseudo_action, pseudo_background, proposals, sec))


def _sets_title(video_name: str, num_gt: int, points, sets) -> str:
    """:func:`.text.video_title`, with ``| a vs b`` for several sets."""
    counts = [len(s[0]) for s in sets.values()]
    title = video_title(video_name, num_gt, points,
                        counts[0] if len(counts) == 1 else counts)
    if len(sets) > 1:
        title += ' | ' + ' vs '.join(sets)
    return title


def plot_video(video_name: str,
               gt_segments,
               gt_labels,
               predictions,
               classes: Sequence[str],
               out_file: str,
               duration: Optional[float] = None,
               points=None,
               title: Optional[str] = None,
               *,
               point_labels=None,
               top_k: int = 10,
               show_classes: Optional[Sequence[int]] = None,
               score_note: Optional[str] = HRPRO_SCORE_NOTE,
               width: float = 12.0,
               dpi: int = 100) -> Tuple[int, int]:
    """Draw one video's ground truth and predictions (no model needed) and
    save it as PNG.

    (Over 60 lines only by its arguments and their description.)

    Args:
        video_name: shown in the title.
        gt_segments, gt_labels: ``[N, 2]`` seconds, ``[N]`` class indices.
        predictions: ``(segments [M, 2] s, labels [M], scores [M])`` (a
            tuple, or a dict with those keys), or, to compare methods side
            by side, an ordered mapping ``{name: such a triplet}``; each set
            is cut to its ``top_k`` best.
        classes: class names.
        out_file: PNG path (parent folder must exist).
        duration: x range in seconds; default: the last end drawn.
        points: point times in seconds ``[P]`` (with ``point_labels``);
            None leaves points out of the title, an empty array makes it say
            "no point labels".
        title: replaces :func:`.text.video_title`.
        point_labels: ``[P]`` class indices of ``points``.
        top_k: predictions drawn a set.
        show_classes: default: the ground truth's classes, then those of the
            sets' top predictions (at most 6).
        score_note: the line under the legend saying what a score is
            (:data:`.text.GENERIC_SCORE_NOTE` for another method's file).

    Returns:
        ``(width_px, height_px)`` of the saved image.
    """
    require_matplotlib()
    sets = prediction_sets(predictions, top_k)
    gt_seg = as_array(gt_segments, (2, ))
    gt_lab = as_array(gt_labels, dtype=np.int64)
    pts, pt_lab = as_array(points), as_array(point_labels, dtype=np.int64)
    if len(pts) != len(pt_lab):
        raise ValueError(f'{len(pts)} points but {len(pt_lab)} point labels')
    if duration is None:
        duration = float(max([1.0] + list(gt_seg[:, 1]) + [
            float(s[:, 1].max()) for s, _, _ in sets.values() if len(s)]))
    shown = (list(show_classes) if show_classes is not None else
             classes_of_sets(gt_lab, pt_lab, sets, top_k))
    if title is None:
        title = _sets_title(video_name, len(gt_seg), points, sets)
    return draw_video(out_file, classes=classes, duration=duration,
                      gt_seg=gt_seg, gt_lab=gt_lab, pts=pts, pt_lab=pt_lab,
                      pred_sets=sets, shown=shown, title=title,
                      score_note=score_note, width=width, dpi=dpi)
