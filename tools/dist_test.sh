#!/usr/bin/env bash
# Multi-process testing: tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args]
#   NNODES, NODE_RANK, MASTER_ADDR, PORT: multi-node settings (defaults: one
#   node, 127.0.0.1:29500); PYTHON: the interpreter to launch with. Without
#   CUDA the processes use gloo on the CPU (GPUS = number of processes).
set -euo pipefail

if [ $# -lt 3 ]; then
    echo "usage: $0 CONFIG CHECKPOINT GPUS [tools/test.py arguments]" >&2
    exit 2
fi
exec "$(dirname "$0")/dist_launch.sh" test.py "$3" "$1" "$2" --launcher pytorch "${@:4}"
