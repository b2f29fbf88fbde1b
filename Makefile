# HR-Pro plugin: install, demo, test. Every target installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= data/synthetic
WORK_DIR ?= work_dirs/hrpro_synthetic
export PIP_DISABLE_PIP_VERSION_CHECK=1

.PHONY: install demo demo-thumos test test-fast clean gpu-check

install: $(STAMP)

# The stamp depends on setup.py and the Makefile: edit either and the next
# `make install` re-runs pip; otherwise it returns at once.
$(STAMP): setup.py Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q "numpy>=2,<2.4" "setuptools>=77.0.3,<81" \
		mmengine==0.10.7 mmcv-lite==2.1.0
	$(BIN)/pip install -q mmaction2==1.2.0 terminaltables importlib_metadata \
		pytest matplotlib
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Synthetic data (seeded, ~0.3 s), both stages, then the mAP table.
demo: install
	$(BIN)/python tools/make_synthetic_dataset.py --out $(DEMO_DIR) --quiet
	$(BIN)/python tools/train.py configs/hrpro_synthetic.py --data-root $(DEMO_DIR) --work-dir $(WORK_DIR)
	$(BIN)/python tools/test.py configs/hrpro_synthetic.py $(WORK_DIR)/stage2.pth --data-root $(DEMO_DIR) --work-dir $(WORK_DIR) --out $(WORK_DIR)/results.json

# The headline THUMOS14 command, unchanged, on synthetic 256-d features over
# the shipped THUMOS14 annotations (data/thumos14): about 15 minutes on 2
# CPU cores. Its mAP is a synthetic-feature figure, not a THUMOS14 result.
THUMOS_DEMO_DIR ?= data/synthetic_thumos14
THUMOS_WORK_DIR ?= work_dirs/hrpro_thumos14_synthetic
demo-thumos: install
	$(BIN)/python tools/make_synthetic_dataset.py --out $(THUMOS_DEMO_DIR) \
		--annotations data/thumos14/gt_full.json --feat-dim 256 --quiet
	$(BIN)/python tools/train.py configs/hrpro_thumos14.py --data-root $(THUMOS_DEMO_DIR) --work-dir $(THUMOS_WORK_DIR)
	$(BIN)/python tools/test.py configs/hrpro_thumos14.py $(THUMOS_WORK_DIR)/stage2.pth --data-root $(THUMOS_DEMO_DIR) --work-dir $(THUMOS_WORK_DIR) --out $(THUMOS_WORK_DIR)/results.json

test: install
	$(BIN)/python -m pytest -q tests

# The prepared CUDA check (docs/gpu_check.md): cuda-marked tests, speed.py
# at THUMOS14 scale (2048-d, full schedule, then --amp), one JSON report in
# $(GPU_CHECK_OUT)/report.json. DRY_RUN=1: the same on the CPU at tiny
# sizes. DEPS=DIR: an offline machine's own python3 and torch, with the
# other dependencies installed in DIR (benchmarks/fetch_wheels.sh); no
# venv is made then.
GPU_CHECK_OUT ?= work_dirs/gpu_check
DRY_RUN ?=
DEPS ?=
GPU_CHECK_ARGS = --out $(GPU_CHECK_OUT) $(if $(filter 1 yes true,$(DRY_RUN)),--dry-run)
ifeq ($(strip $(DEPS)),)
gpu-check: install
	$(BIN)/python benchmarks/gpu_check.py $(GPU_CHECK_ARGS)
else
gpu-check:
	$(PY) benchmarks/gpu_check.py $(GPU_CHECK_ARGS) --deps $(DEPS)
endif

clean:
	rm -rf $(VENV) work_dirs *.egg-info
