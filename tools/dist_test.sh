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
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

# PYTHON=/path/to/python picks the interpreter (python -m torch.distributed.run);
# otherwise torchrun from PATH, else `python -m torch.distributed.run`.
if [ -n "${PYTHON:-}" ]; then
    LAUNCH=("$PYTHON" -m torch.distributed.run)
elif command -v torchrun >/dev/null 2>&1; then
    LAUNCH=(torchrun)
else
    LAUNCH=(python -m torch.distributed.run)
fi

PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
"${LAUNCH[@]}" --nnodes "$NNODES" --node_rank "$NODE_RANK" \
    --master_addr "$MASTER_ADDR" --nproc_per_node "$GPUS" \
    --master_port "$PORT" \
    "$ROOT/tools/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:4}"
