"""The parts of ``benchmarks/speed.py`` (which holds the CLI and ``main``),
one job a module:

* ``machine``: the CPU's name, core count, peak memory, load average;
* ``data``: the dataset (used as it is, or generated with THUMOS14's
  lengths); the one module that imports the dataset generator;
* ``schedule``: the run's config (``configs/hrpro_thumos14.py`` resolved
  like ``tools/train.py``) and the schedule's name;
* ``timeline``: phase marks and counters, the two hooks that set them, and
  the per-phase summary;
* ``recorder``: the inputs of candidate generation and soft-NMS during the
  test, through module forward hooks;
* ``proposal_bench``: ours against ``benchmarks/_naive.py`` on those inputs;
* ``report``: the printed tables.

Importing this package imports nothing: ``speed.py`` imports the modules
once it has set ``CUDA_VISIBLE_DEVICES`` (``--device cpu``).
"""
