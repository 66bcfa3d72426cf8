#!/bin/bash
# Quiet before/after figures (docs/BENCHMARKS.md, "Measurement"). Usage, from the repository:
#   FSYNCPG=postgres://… docs/quietbench.sh BEFORE_REV AFTER_REV
# FSYNCPG: a PostgreSQL server with fsync on (a throwaway cluster: initdb, pg_ctl start).
# Builds both, then interleaves three runs of each measure.
# PARTS (default "intake bench reply survey") picks the measures; INTAKEN the
# tips per intake run (default 1000x); COOL (e.g. 1.0) waits before each run
# until the 1-minute load is under it; FSYNCPGDATA,
# the server's data directory, adds its CPU per tip (server-cpu-µs/tip).
set -u
REPO=$(git rev-parse --show-toplevel)
export PATH=/usr/local/go/bin:$HOME/go/bin:$PATH
OUT=${OUT:-$(mktemp -d)}
BEFORE=$1 AFTER=$2
FSYNCPG=${FSYNCPG:?set FSYNCPG to a PostgreSQL DSN}
PARTS=${PARTS:-intake bench reply survey}
has() { case " $PARTS " in *" $1 "*) return 0;; esac; return 1; }
mkdir -p $OUT; echo "log: $OUT/log"
if [ -z "${SKIPBUILD:-}" ]; then
  for v in before after; do
    rev=$BEFORE; [ $v = after ] && rev=$AFTER
    rm -rf $OUT/$v; mkdir -p $OUT/$v/src
    git -C "$REPO" archive $rev | tar -x -C $OUT/$v/src
    (cd $OUT/$v/src && go test -c -o $OUT/$v/intake.test ./internal/intake && go test -c -o $OUT/$v/webchat.test ./webchat \
      && go test -c -o $OUT/$v/hotline.test ./cmd/hotline && go build -o $OUT/$v/hotline ./cmd/hotline) || exit 1
  done
fi
run() { # label cmd...
  local label=$1; shift
  if [ -n "${COOL:-}" ]; then
    # Wait (two minutes at most) for the 1-minute load to fall under COOL,
    # so that each run starts on a machine at rest, not in the last one's wake.
    for _ in $(seq 24); do
      awk -v c="$COOL" '{exit !($1 < c)}' /proc/loadavg && break
      sleep 5
    done
  fi
  echo "=== $label $(date +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $OUT/log
  "$@" 2>&1 | tee -a $OUT/log | grep -E "^Benchmark|p99|reports/s|telegram step|webchat step|load at start" | head -20
}
for i in 1 2 3; do
  for v in before after; do
    B=$OUT/$v
    cd $B/src/internal/intake
    if has intake; then
      run "$v intake sqlite #$i" $B/intake.test -test.run '^$' -test.bench DurableIntake -test.benchtime ${INTAKEN:-1000x}
      run "$v intake postgres(fsync on) #$i" env HOTLINE_TEST_ENGINE=postgres HOTLINE_TEST_PG=$FSYNCPG HOTLINE_BENCH_PGDATA=${FSYNCPGDATA:-} $B/intake.test -test.run '^$' -test.bench DurableIntake -test.benchtime ${INTAKEN:-1000x}
    fi
    cd $B/src
    if has bench; then run "$v hotline bench 16 #$i" $B/hotline bench --submitters 16 --duration 10s; fi
  done
done
for i in 1 2 3; do
  for v in before after; do
    B=$OUT/$v
    cd $B/src/webchat
    if has reply; then run "$v reply latency #$i" $B/webchat.test -test.run '^$' -test.bench 'ReplyLatency/hotline' -test.benchtime 1x; fi
    cd $B/src/cmd/hotline
    if has survey; then run "$v survey burst #$i" $B/hotline.test -test.run '^$' -test.bench SurveySubmit -test.benchtime 1x; fi
  done
done
echo "=== done $(date +%H:%M:%S)" | tee -a $OUT/log
