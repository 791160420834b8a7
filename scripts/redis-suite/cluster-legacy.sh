#!/usr/bin/env bash
# Run Redis 7.0.15's legacy Redis Cluster suite (tests/cluster: run.tcl, tests/NN-*.tcl and the
# multi-instance harness tests/instances.tcl) against redeno or a stock redis-server. The harness
# starts 20 instances as `../../../src/redis-server redis_N/redis.conf` (cluster-enabled yes,
# appendonly yes, enable-debug-command yes, ...) and every test file resets them into the
# cluster it needs (CLUSTER RESET HARD, MEET, ADDSLOTS, REPLICATE), kills and restarts them.
#
# It builds a work tree (under /tmp, deleted afterwards) whose tests/ links to the exported tree
# ($REDIS_TESTS, never committed) except tests/cluster, whose tmp/ (the instances' directories)
# is private; src/redis-server is the shim of run.sh (server-shim.sh) starting the server under
# test; src/redis-cli is the installed one (04-resharding and 12-replica-migration-2 run
# `redis-cli --cluster reshard/rebalance`). Each test file runs alone, in a fresh harness with
# fresh instances (`--single NN-name.tcl`), through cluster-legacy.tcl, which only moves the
# instances' ports to BASEPORT .. BASEPORT+PORTCOUNT-1 (cluster bus: +10000). It prints one line
# per file and a total:
#   cluster/00-base ok=12 err=0 exc=0 time=20s
#   cluster-legacy: N passed, M failed
#
# Usage (from anywhere):
#   scripts/redis-suite/cluster-legacy.sh [FILE ...]       default: every tests/cluster/tests/*.tcl
#                                                          (FILE: 00-base, 00-base.tcl, ...)
#   SERVER=redis scripts/redis-suite/cluster-legacy.sh ... the same files against redis-server
#   SAVE_AS=cluster-legacy-redeno-deno ... also writes baseline/NAME.{summary,results}.tsv
#
# Environment (all optional):
#   SERVER        redeno | redis                                             (redeno)
#   RUNTIME       deno | node: how redeno runs                               (deno)
#   PROJECT       redeno checkout to run                 (the one holding this script)
#   REDIS_SERVER  the stock server for SERVER=redis                  (/usr/bin/redis-server)
#   REDIS_TESTS   exported tests tree: tests/ of redis 7.0.15                 (/tmp/redis-tests)
#   BASEPORT      first instance port                                                (32000)
#   PORTCOUNT     ports for instances (the harness probes port and port+10000)         (64)
#   FILE_TIMEOUT  seconds before one test file (its harness and instances) is killed    (900)
#   LOG_DIR       per-file logs, summary.tsv, results.tsv
#                                          (/tmp/redeno-suite-logs/cluster-legacy-<server>-<time>)
#   SAVE_AS       NAME: copy summary.tsv and results.tsv to baseline/NAME.*.tsv next to this file
#   KEEP_WORK     1 = keep the work tree and pass --dont-clean: every instance's config, log.txt
#                 and err.txt stay in the work tree's tests/cluster/tmp/redis_N              (0)
#
# Counting: the harness prints `HH:MM:SS> NAME: OK` per test. ok = tests that printed OK; err =
# `FAILED: <assertion>` (the harness then skips the rest of the file); exc = `FAILED: caught an
# error in the test` (a Tcl error: an unexpected error reply, a lost connection), a test left
# unfinished, and 1 for a file cut short (harness abort: an instance that did not start;
# FILE_TIMEOUT; no `Testing unit:` line). results.tsv: file, result, test name per test.

set -u
{

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-}" in -h | --help) sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;; esac
PROJECT="${PROJECT:-$(cd "$here/../.." && pwd)}"
SERVER="${SERVER:-redeno}"
RUNTIME="${RUNTIME:-deno}"
REDIS_SERVER="${REDIS_SERVER:-/usr/bin/redis-server}"
REDIS_TESTS="${REDIS_TESTS:-/tmp/redis-tests}"
BASEPORT="${BASEPORT:-32000}"
PORTCOUNT="${PORTCOUNT:-64}"
FILE_TIMEOUT="${FILE_TIMEOUT:-900}"
LOG_DIR="${LOG_DIR:-/tmp/redeno-suite-logs/cluster-legacy-$SERVER-$(date +%Y%m%d-%H%M%S)}"
SAVE_AS="${SAVE_AS:-}"
KEEP_WORK="${KEEP_WORK:-0}"

die() { echo "cluster-legacy: $*" >&2; exit 2; }

tclsh_bin="$(command -v tclsh8.6 || command -v tclsh8.7 || command -v tclsh || true)"
[ -n "$tclsh_bin" ] || die "no tclsh (apt-get install tcl)"
command -v timeout >/dev/null || die "timeout(1) not found (coreutils)"
[ -f "$REDIS_TESTS/tests/cluster/run.tcl" ] || die "no tests/cluster/run.tcl under REDIS_TESTS=$REDIS_TESTS"
REDIS_TESTS="$(cd "$REDIS_TESTS" && pwd)"
case "$SERVER" in
    redeno) [ -f "$PROJECT/main.ts" ] || die "no main.ts in PROJECT=$PROJECT" ;;
    redis) [ -x "$REDIS_SERVER" ] || die "REDIS_SERVER=$REDIS_SERVER is not executable" ;;
    *) die "unknown SERVER=$SERVER (redeno or redis)" ;;
esac
cli="$(command -v redis-cli || true)"
[ -n "$cli" ] || die "redis-cli not found (Debian package redis-tools)"

if [ $# -gt 0 ]; then
    files=("$@")
else
    files=()
    for f in "$REDIS_TESTS"/tests/cluster/tests/*.tcl; do files+=("$(basename "$f")"); done
fi

work="$(mktemp -d /tmp/redeno-cluster-legacy.XXXXXX)" || die "mktemp failed"
mkdir -p "$work/tests/cluster/tmp" "$work/src" "$LOG_DIR" || die "cannot create $work or LOG_DIR=$LOG_DIR"
for entry in "$REDIS_TESTS"/tests/*; do
    case "$(basename "$entry")" in cluster | tmp) ;; *) ln -s "$entry" "$work/tests/" ;; esac
done
for entry in "$REDIS_TESTS"/tests/cluster/*; do
    [ "$(basename "$entry")" = tmp ] || ln -s "$entry" "$work/tests/cluster/"
done
{
    echo '#!/usr/bin/env bash'
    echo "# Made by $here/cluster-legacy.sh: the server under test for the harness."
    printf 'export SUITE_SERVER=%q PROJECT=%q RUNTIME=%q REDIS_SERVER=%q\n' \
        "$SERVER" "$PROJECT" "$RUNTIME" "$REDIS_SERVER"
    printf 'exec %q "$@"\n' "$here/server-shim.sh"
} >"$work/src/redis-server"
chmod +x "$work/src/redis-server"
ln -s "$cli" "$work/src/redis-cli"

# shellcheck source=scripts/redis-suite/strays.sh
. "$here/strays.sh"

# One harness log -> "ok err exc started aborted"; appends "file<TAB>result<TAB>name" rows to $2.
parse_log() {
    awk -v file="$3" -v out="$2" '
        function row(kind, name) { gsub(/\t/, " ", name); printf "%s\t%s\t%s\n", file, kind, name >> out }
        function verdict(text) {
            if (text ~ /FAILED: caught an error in the test/) { exc++; row("exc", name); pending = 0 }
            else if (text ~ /FAILED: /) { err++; row("err", name); pending = 0 }
            else if (text ~ /OK$/) { ok++; row("ok", name); pending = 0 }
        }
        { gsub(/\033\[[0-9;]*m/, "") }
        /^Testing unit: / { started = 1; next }
        /Aborting the test/ { aborted = 1 }
        /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]> / {
            if (pending) { exc++; row("unfinished", name) }
            line = substr($0, 11); at = index(line, ": ")
            name = at ? substr(line, 1, at - 1) : line
            pending = 1; verdict(at ? substr(line, at + 2) : ""); next
        }
        pending { verdict($0) }
        END {
            if (pending) { exc++; row("unfinished", name) }
            printf "%d %d %d %d %d\n", ok, err, exc, started, aborted
        }
    ' "$1"
}

what="$SERVER"
if [ "$SERVER" = redeno ]; then
    dirty="$(git -C "$PROJECT" status --porcelain --untracked-files=no 2>/dev/null | wc -l)"
    what="redeno ($RUNTIME, $PROJECT @ $(git -C "$PROJECT" rev-parse --short HEAD 2>/dev/null || echo '?'), $dirty changed file(s) not committed)"
fi
[ "$SERVER" = redis ] && what="$("$REDIS_SERVER" --version | cut -d' ' -f1-3)"
echo "# cluster-legacy: $what; ports $BASEPORT+$PORTCOUNT; logs $LOG_DIR" >&2
printf 'file\tok\terr\texc\ttime_s\tstatus\n' >"$LOG_DIR/summary.tsv"
printf 'file\tresult\ttest\n' >"$LOG_DIR/results.tsv"

extra=()
[ "$KEEP_WORK" = 1 ] && extra+=(--dont-clean)
tot_ok=0 tot_err=0 tot_exc=0 harness_error=0
for f in "${files[@]}"; do
    f="$(basename "${f%.tcl}")"
    name="cluster/$f"
    log="$LOG_DIR/$f.log"
    if [ ! -f "$REDIS_TESTS/tests/cluster/tests/$f.tcl" ]; then
        echo "$name ok=0 err=0 exc=0 time=0s missing-file"
        printf '%s\t0\t0\t0\t0\tmissing-file\n' "$name" >>"$LOG_DIR/summary.tsv"
        harness_error=1
        continue
    fi
    start=$(date +%s)
    # timeout(1) signals its whole process group on expiry: the harness and its instances.
    ( cd "$work" && TERM=dumb exec timeout -k 15 "$FILE_TIMEOUT" "$tclsh_bin" \
        "$here/cluster-legacy.tcl" "$BASEPORT" "$PORTCOUNT" --single "$f.tcl" "${extra[@]}" ) \
        </dev/null >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    stop_strays
    read -r ok err exc started aborted < <(parse_log "$log" "$LOG_DIR/results.tsv" "$name")
    status=""
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        status="timeout"; exc=$((exc + 1))
    elif [ "$aborted" = 1 ]; then
        status="aborted"; exc=$((exc + 1))
    elif [ "$started" != 1 ]; then
        status="no-result"; exc=$((exc + 1))
    fi
    echo "$name ok=$ok err=$err exc=$exc time=${secs}s${status:+ $status}"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$ok" "$err" "$exc" "$secs" "$status" >>"$LOG_DIR/summary.tsv"
    tot_ok=$((tot_ok + ok)); tot_err=$((tot_err + err)); tot_exc=$((tot_exc + exc))
done

failed=$((tot_err + tot_exc))
echo "cluster-legacy: $tot_ok passed, $failed failed"
echo "# totals: ok=$tot_ok err=$tot_err exc=$tot_exc (logs: $LOG_DIR)" >&2

if [ -n "$SAVE_AS" ]; then
    cp "$LOG_DIR/summary.tsv" "$here/baseline/$SAVE_AS.summary.tsv"
    cp "$LOG_DIR/results.tsv" "$here/baseline/$SAVE_AS.results.tsv"
    echo "# saved: $here/baseline/$SAVE_AS.{summary,results}.tsv" >&2
fi

[ "$harness_error" = 1 ] && exit 2
exit 0
}
