#!/bin/sh
# Times temper's Sgemm (bench/sgemm/gosgemm) and the same shapes in PyTorch (with OpenBLAS
# forced to its SkylakeX kernels, and with its default dispatch) by the same method: best
# of 5 timing loops of >= 0.2 s each, C preallocated. The three programs run in turn COUNT
# times (so all see the same machine load) and the best GFLOP/s of all rounds is kept.
# Prints GFLOP/s and the ratio temper/PyTorch per shape.
#
# Usage (from anywhere):  bench/sgemm/run.sh            # 2 threads, COUNT=5
#                         THREADS=1 COUNT=3 bench/sgemm/run.sh
#                         TEMPER_KERNEL=avx2 bench/sgemm/run.sh
set -e
cd "$(dirname "$0")/../.."
THREADS=${THREADS:-2}
COUNT=${COUNT:-5}
PY=${PY:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "# $(date -u '+%Y-%m-%d %H:%M UTC')  $(lscpu | grep 'Model name' | sed 's/  */ /g')"
echo "# temper kernel path: ${TEMPER_KERNEL:-auto}  threads: $THREADS  count: $COUNT"

go build -o "$tmp/gosgemm" ./bench/sgemm/gosgemm
# torch.set_num_threads does not limit OpenBLAS's own thread pool (measured: with
# --threads 1 it still ran on 2 CPUs); OPENBLAS_NUM_THREADS does.
export OPENBLAS_NUM_THREADS="$THREADS"
for i in $(seq "$COUNT"); do
	"$tmp/gosgemm" -threads "$THREADS" >>"$tmp/go.txt"
	OPENBLAS_CORETYPE=SkylakeX $PY bench/sgemm/torch_sgemm.py --threads "$THREADS" >>"$tmp/skx.txt"
	$PY bench/sgemm/torch_sgemm.py --threads "$THREADS" >>"$tmp/def.txt"
done

# Best GFLOP/s per shape.
best() { awk '{ if (!($1 in b) || $2 > b[$1]) b[$1] = $2 } END { for (s in b) print s, b[s] }' "$@"; }
best "$tmp/go.txt" >"$tmp/go.best"
best "$tmp/skx.txt" >"$tmp/skx.best"
best "$tmp/def.txt" >"$tmp/def.best"

printf '%-26s %9s %11s %7s %11s %7s\n' shape temper torch-SKX ratio torch-def ratio
$PY bench/sgemm/torch_sgemm.py --list | while read -r s; do
	g=$(awk -v s="$s" '$1 == s { print $2 }' "$tmp/go.best")
	k=$(awk -v s="$s" '$1 == s { print $2 }' "$tmp/skx.best")
	d=$(awk -v s="$s" '$1 == s { print $2 }' "$tmp/def.best")
	awk -v s="$s" -v g="$g" -v k="$k" -v d="$d" 'BEGIN { printf "%-26s %9.1f %11.1f %7.2f %11.1f %7.2f\n", s, g, k, g / k, d, g / d }'
done
echo "# GFLOP/s = 2mnk / time; ratio = temper / PyTorch (>1 means temper is faster)"
