#!/usr/bin/env bash
# Carry HR-Pro's dependencies (everything but torch) to a machine that has
# its own Python 3.12 and torch but cannot reach a package registry.
#
# Here (online):
#     benchmarks/fetch_wheels.sh download [--common] [--binary] [WHEELS]
# There (offline, after copying the repository with WHEELS in it):
#     benchmarks/fetch_wheels.sh install DIR [WHEELS]
#     make gpu-check DEPS=DIR      # or: python3 benchmarks/gpu_check.py --deps DIR
# WHEELS defaults to wheels/ (ignored by git); DIR is any folder.
#
# download: `pip download --only-binary=:all: --no-deps` for CPython $PYVER
# (default 3.12) of the pinned sets below, the versions tested here: CORE
# always (~4 MB), COMMON with --common, the compiled BINARY set (manylinux
# x86_64, ~140 MB) with --binary (--all: both). --no-deps because the
# packages' own requirements name torch, decord, opencv-python (a GUI build
# that needs libGL; the headless build is fetched instead) and
# opencv-contrib-python, which the code does not import. Together the three
# sets are every package the tools, benchmarks/speed.py and the tests import
# beside torch and the standard library.
#
# install: `pip install --no-index --no-deps --upgrade --target DIR` of
# every wheel in WHEELS (without pip: each wheel unpacked into DIR), then
# an import check with PYTHONPATH=DIR that names whatever is still missing
# (download that set too). gpu_check.py --deps DIR puts DIR on PYTHONPATH;
# its packages then come before the machine's own.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYVER="${PYVER:-3.12}"
PLATFORMS="${PLATFORMS:-manylinux_2_28_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64}"
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"
    else PYTHON=python3; fi
fi

# Three sets, pinned to the versions tested here:
# CORE (always): what a machine with Python and torch rarely has.
CORE=(
    mmengine==0.10.7 mmcv-lite==2.1.0 mmaction2==1.2.0 terminaltables==3.1.10
    addict==2.4.0 yapf==0.43.0 platformdirs==4.14.9 termcolor==3.3.0
    importlib_metadata==10.2.0 zipp==4.1.2 lazy-importer==0.1.0
)
# COMMON (--common): pure-Python packages that scientific Python images
# usually hold already (rich, pytest, matplotlib's pure helpers, ...).
COMMON=(
    rich==15.0.0 markdown-it-py==4.3.0 mdurl==0.1.2 pygments==2.21.0
    einops==0.8.2 packaging==26.4 cycler==0.12.1 pyparsing==3.3.3
    python-dateutil==4.0.0 tzdata==2026.6 setuptools==80.10.2
    pytest==9.2.0 iniconfig==2.3.1 pluggy==1.7.0
)
# BINARY (--binary): compiled cp312 manylinux x86_64 wheels, ~140 MB.
BINARY=(
    numpy==2.3.5 scipy==1.17.1 pyyaml==6.0.4 pillow==13.0.0
    opencv-python-headless==5.0.0.93 matplotlib==3.11.2 contourpy==1.3.3
    kiwisolver==1.5.1 fonttools==4.68.0
)
# what the import check imports (module names); distutils: see install
MODULES="numpy scipy yaml PIL cv2 matplotlib einops importlib_metadata rich \
yapf addict termcolor terminaltables mmengine mmcv mmaction pytest distutils"

usage() { sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }

download() {
    local dest="$ROOT/wheels" common=0 binary=0
    while [ $# -gt 0 ]; do
        case "$1" in
            --common) common=1 ;;
            --binary) binary=1 ;;
            --all) common=1; binary=1 ;;
            -*) usage ;;
            *) dest="$1" ;;
        esac
        shift
    done
    mkdir -p "$dest"
    local args=(download --only-binary=:all: --no-deps --python-version
                "$PYVER" --implementation cp -d "$dest")
    local pure=("${CORE[@]}")
    [ "$common" = 1 ] && pure+=("${COMMON[@]}")
    echo "[fetch_wheels] ${#pure[@]} pure-Python wheels for Python $PYVER" \
         "-> $dest"
    "$PYTHON" -m pip "${args[@]}" "${pure[@]}"
    if [ "$binary" = 1 ]; then
        local plat=()
        for p in $PLATFORMS; do plat+=(--platform "$p"); done
        echo "[fetch_wheels] ${#BINARY[@]} compiled wheels (cp${PYVER/./}," \
             "$PLATFORMS)"
        "$PYTHON" -m pip "${args[@]}" --abi "cp${PYVER/./}" "${plat[@]}" \
            "${BINARY[@]}"
    fi
    echo "[fetch_wheels] $(ls "$dest"/*.whl | wc -l) wheels," \
         "$(du -sh "$dest" | cut -f1) in $dest"
    echo "[fetch_wheels] copy the repository (with $(basename "$dest")/) to" \
         "the offline machine, then: benchmarks/fetch_wheels.sh install DIR"
}

install() {
    local dir="${1:?install needs a target folder}"
    local wheels="${2:-$ROOT/wheels}"
    local py="${PYTHON_TARGET:-python3}"
    ls "$wheels"/*.whl >/dev/null 2>&1 || {
        echo "[fetch_wheels] no wheels in $wheels (run the download here" \
             "first)" >&2; exit 1; }
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if "$py" -m pip --version >/dev/null 2>&1; then
        echo "[fetch_wheels] pip install --no-index --no-deps --target $dir"
        "$py" -m pip install -q --no-index --no-deps --upgrade \
            --target "$dir" "$wheels"/*.whl
    else
        echo "[fetch_wheels] no pip for $py: unpacking the wheels into $dir"
        for w in "$wheels"/*.whl; do "$py" -m zipfile -e "$w" "$dir"; done
    fi
    # distutils (mmengine's environment report imports it) is gone from
    # Python 3.12's standard library; setuptools brings it back through a
    # .pth file, which Python reads in site-packages only. Where the
    # machine's own setuptools does not provide it, a sitecustomize.py in
    # DIR reads DIR's .pth files (needs setuptools in WHEELS: --common).
    if ! PYTHONPATH="$dir" "$py" -c 'import distutils' 2>/dev/null; then
        if PYTHONPATH="$dir" "$py" -c 'import importlib.util as u, sys
sys.exit(u.find_spec("sitecustomize") is not None)'; then
            printf '%s\n' 'import os, site' \
                'site.addsitedir(os.path.dirname(os.path.abspath(__file__)))' \
                > "$dir/sitecustomize.py"
            echo "[fetch_wheels] wrote $dir/sitecustomize.py (reads the" \
                 ".pth files of $dir, for setuptools' distutils)"
        else
            echo "[fetch_wheels] warning: no distutils, and this Python has" \
                 "its own sitecustomize: install setuptools for it" >&2
        fi
    fi
    echo "[fetch_wheels] import check: $MODULES"
    PYTHONPATH="$dir:$ROOT" "$py" -c "
import importlib, sys
bad = []
for m in sys.argv[1:] + ['hrpro_plugin']:  # the plugin imports mmaction's parts
    try:
        importlib.import_module(m)
    except Exception as err:
        bad.append('%s (%s: %s)' % (m, type(err).__name__, err))
try:
    import torch
    print('[fetch_wheels] torch', torch.__version__, '| CUDA',
          torch.version.cuda, '| GPU', torch.cuda.is_available())
except Exception as err:
    bad.append('torch (%s: %s): this machine needs its own' % (
        type(err).__name__, err))
if bad:
    sys.exit('[fetch_wheels] cannot import: ' + '; '.join(bad) +
             ' (download them with --common / --binary here)')
print('[fetch_wheels] all imports work')
" $MODULES
    echo "[fetch_wheels] next: make gpu-check DEPS=$dir" \
         "(or python3 benchmarks/gpu_check.py --deps $dir)"
}

case "${1:-download}" in
    download) shift || true; download "$@" ;;
    install) shift; install "$@" ;;
    -h|--help|help) usage ;;
    *) usage ;;
esac
