#!/usr/bin/env bash
# Multi-process training: tools/dist_train.sh CONFIG GPUS [train.py args]
#   NNODES, NODE_RANK, MASTER_ADDR, PORT: multi-node settings (defaults: one
#   node, 127.0.0.1:29500); PYTHON: the interpreter to launch with. Without
#   CUDA the processes use gloo on the CPU (GPUS = number of processes).
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG GPUS [tools/train.py arguments]" >&2
    exit 2
fi
exec "$(dirname "$0")/dist_launch.sh" train.py "$2" "$1" --launcher pytorch "${@:3}"
