#!/usr/bin/env bash
# Shared by dist_train.sh and dist_test.sh:
#   tools/dist_launch.sh SCRIPT NPROC [SCRIPT arguments]
# runs tools/SCRIPT under torch.distributed.run (the callers pass
# --launcher pytorch).
#   NNODES, NODE_RANK, MASTER_ADDR, PORT: multi-node settings (defaults: one
#   node, 127.0.0.1:29500); PYTHON: the interpreter to launch with. Without
#   CUDA the processes use gloo on the CPU (NPROC = number of processes).
set -euo pipefail

SCRIPT=$1
NPROC=$2
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
    --master_addr "$MASTER_ADDR" --nproc_per_node "$NPROC" \
    --master_port "$PORT" \
    "$ROOT/tools/$SCRIPT" "${@:3}"
