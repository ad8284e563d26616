#!/bin/bash
# Interleaved step-time comparison of profiler binaries (go build -o X ./bench/cnn/profile),
# each run under the shared benchmark lock; prints min and mean wall and CPU ms per step.
#
#   bench/cnn/compare_steps.sh ROUNDS "label|ENV=VALUE ...|./binary" ...
rounds=$1; shift
for r in $(seq "$rounds"); do
  for spec in "$@"; do
    IFS='|' read -r label envs bin <<< "$spec"
    out=$(env $envs flock /tmp/temper-bench.lock "$bin" -steps 40)
    echo "$label $(echo "$out" | sed -E 's/.*: ([0-9.]+) ms\/step, CPU ([0-9.]+) ms.*/\1 \2/')"
  done
done | awk '{w[$1]=(w[$1]==""||$2<w[$1])?$2:w[$1]; c[$1]=(c[$1]==""||$3<c[$1])?$3:c[$1]; n[$1]++; sw[$1]+=$2; sc[$1]+=$3}
END {for (k in w) printf "%-12s min wall %6.2f  min CPU %6.2f  mean wall %6.2f  mean CPU %6.2f  (n=%d)\n", k, w[k], c[k], sw[k]/n[k], sc[k]/n[k], n[k]}'
