#!/bin/sh
# Fuzz campaign (issue #18): every parser/reader target of temper, one at a time,
# niced, one worker. Usage: tools/fuzzcampaign.sh SRC_DIR FUZZTIME [LOGDIR]
# (SRC_DIR: a checkout, e.g. from git archive, so edits do not change what is fuzzed).
# TARGETS (optional, "Name ./pkg;Name ./pkg;...") overrides the list and order; WAITPID
# (optional) waits for a running fuzz process to end first. Each target logs to
# LOGDIR/<target>-<pkg>.log, whose last "fuzz: elapsed" line holds the execs count; one
# line per target goes to LOGDIR/summary.txt (rc != 0: a crasher, see the log and
# SRC_DIR/PKG/testdata/fuzz/). The run goes on after a failing target.
SRC=${1:?source dir}; TIME=${2:-10m}; LOG=${3:-/tmp/fuzz18}
mkdir -p "$LOG"
cd "$SRC" || exit 1
ALL="FuzzLoad ./checkpoint;FuzzIDX ./data;FuzzCIFAR ./data;FuzzImageFolder ./data;FuzzParse ./schedule;FuzzParse ./augment;FuzzTerms ./internal/spec;FuzzReadManifest ./ensemble;FuzzParse ./recipe;FuzzStateMeta ./train"
TARGETS=${TARGETS:-$ALL}
if [ -n "$WAITPID" ]; then
  while kill -0 "$WAITPID" 2>/dev/null; do sleep 5; done
fi
IFS=';'
for t in $TARGETS; do
  IFS=' '
  set -- $t
  name="$1-$(echo "$2" | tr -d './' )"
  start=$(date -u +%FT%TZ)
  nice -n 10 go test -run='^$' -fuzz="^$1\$" -fuzztime="$TIME" -parallel=1 "$2" > "$LOG/$name.log" 2>&1
  rc=$?
  last=$(grep 'fuzz: elapsed' "$LOG/$name.log" | tail -1)
  echo "$name start=$start end=$(date -u +%FT%TZ) rc=$rc $last" >> "$LOG/summary.txt"
  IFS=';'
done
echo "done $(date -u +%FT%TZ)" >> "$LOG/summary.txt"
