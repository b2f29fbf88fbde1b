"""``--dump`` files that MMAction2's own offline evaluator can score."""
from typing import Any, Sequence

from mmengine.evaluator import DumpResults

from mmaction.registry import METRICS


@METRICS.register_module()
class DumpTALResults(DumpResults):
    """MMEngine's :class:`~mmengine.evaluator.DumpResults`, with the class
    names stored in every dumped sample (key ``classes``).

    Offline evaluation (MMAction2's ``tools/analysis_tools/eval_metric.py
    CONFIG results.pkl``) builds the config's evaluator without a dataset,
    so :class:`TALmAPMetric` has no ``dataset_meta``; it reads the class
    names from the samples instead. The stock ``DumpResults`` writes no
    names, and a file of label indices alone cannot be turned back into a
    results JSON. Used by ``tools/test.py --dump``.
    """

    default_prefix = 'dump'  # it reports no metric; silences mmengine

    def process(self, data_batch: Any, predictions: Sequence[dict]) -> None:
        classes = (self.dataset_meta or {}).get('classes')
        if classes is not None:
            classes = tuple(classes)
            predictions = [dict(p, classes=classes) for p in predictions]
        super().process(data_batch, predictions)
