#!/usr/bin/env bash
# Run units of Redis 7.0.15's own Tcl test suite in its normal (non-external) mode, where the runner
# starts a server itself for every `start_server` block, against redeno or a stock redis-server.
# Unlike external mode (`runtest --host ...`, the shared suite scripts), the blocks tagged
# `external:skip` run: all of unit/maxmemory, servers with their own config, restarts, ...
#
# It builds a work tree (under /tmp, deleted afterwards) whose tests/ links to the exported tree
# ($REDIS_TESTS, never committed) with a private tests/tmp, and whose src/redis-server is a shim
# (server-shim.sh) starting the server under test; src/redis-cli and src/redis-benchmark are the
# installed tools. Then it runs each unit with the upstream runner through launcher.tcl (which keeps
# every port in BASEPORT-32 .. BASEPORT+PORTCOUNT-1), and prints one line per unit and a total:
#   unit/lazyfree ok=5 err=0 exc=0 skip=0 time=3s
#   redis-suite: N passed, M failed
#
# Usage (from anywhere):
#   scripts/redis-suite/run.sh [unit ...]            default: unit/maxmemory unit/lazyfree unit/scripting
#   SERVER=redis scripts/redis-suite/run.sh ...      the same units against /usr/bin/redis-server
#   SAVE_AS=redeno-deno-M scripts/redis-suite/run.sh also writes baseline/redeno-deno-M.{summary,results}.tsv
#
# Environment (all optional):
#   SERVER        redeno | redis                                             (redeno)
#   RUNTIME       deno | node: how redeno runs                               (deno)
#   PROJECT       redeno checkout to run                 (the one holding this script)
#   REDIS_SERVER  the stock server for SERVER=redis                  (/usr/bin/redis-server)
#   REDIS_TESTS   exported tests tree: tests/ and runtest of redis 7.0.15  (/tmp/redis-tests)
#   PROFILE       tag set: M = leave out what redeno cannot run (DEBUG subcommands, ...) but allow
#                 needs:config-maxmemory; full = no tag filter                     (M)
#   TAGS          explicit --tags value, overrides PROFILE
#   BASEPORT      runner's port base: its own listener takes one of BASEPORT-32..BASEPORT-1,
#                 servers BASEPORT..BASEPORT+PORTCOUNT-1                            (7532)
#   PORTCOUNT     (64); keep two concurrent runs apart with e.g. BASEPORT=7632
#   EXTRA_ARGS    more runner flags, word-split      (--ignore-encoding --ignore-digest)
#   SKIP_TESTS    test names to skip, one per line (each becomes --skiptest NAME; a leading / makes
#                 it a regexp). Skipped tests are counted as skip. E.g. a test that deadlocks:
#                 SKIP_TESTS='slave buffer are counted correctly'
#   DURABLE       1 = --durable: a Tcl error fails one test, not the whole unit    (1)
#   UNIT_TIMEOUT  seconds before a unit is killed                                  (1200)
#   TEST_TIMEOUT  runner's --timeout: seconds without a test finishing             (300)
#   LOG_DIR       per-unit logs, summary.tsv, results.tsv  (/tmp/redeno-suite-logs/<server>-<time>)
#   SAVE_AS       NAME: copy summary.tsv and results.tsv to baseline/NAME.*.tsv next to this file
#   KEEP_WORK     1 = keep the work tree and pass --dont-clean: each server's config, stdout
#                 (its log) and stderr stay in the work tree's tests/tmp            (0)
#   STRICT        1 = exit 1 when a test failed (else 0 when the run completed; 2 on harness errors)
#   TLS           1 = the runner's --tls mode: every server listens on TLS only (tls-port, port 0,
#                 tls-replication and tls-cluster yes) with certificates made in the work tree's
#                 tests/tls as Redis's utils/gen-test-certs.sh makes them; needs openssl and Tcl's
#                 tls package (apt-get install tcl-tls)                               (0)
#
# Counting (as the shared external-mode run.sh does): ok = [ok] lines; err = [err] lines that are
# assertion failures; exc = [err] lines with a Tcl stack trace (unexpected error reply, lost
# connection, a server that did not start, ...), plus 1 for a unit cut short (runner [exception],
# [TIMEOUT], UNIT_TIMEOUT, no final report); skip = [skip] + [ignore] lines (a start_server block
# left out by the tag filter counts once). results.tsv has one row per test: unit, result, name.

set -u
# The whole script is one compound command, read before it runs: editing this file during a run
# does not break that run.
{

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-}" in -h | --help) sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;; esac
PROJECT="${PROJECT:-$(cd "$here/../.." && pwd)}"
SERVER="${SERVER:-redeno}"
RUNTIME="${RUNTIME:-deno}"
REDIS_SERVER="${REDIS_SERVER:-/usr/bin/redis-server}"
REDIS_TESTS="${REDIS_TESTS:-/tmp/redis-tests}"
PROFILE="${PROFILE:-M}"
BASEPORT="${BASEPORT:-7532}"
PORTCOUNT="${PORTCOUNT:-64}"
EXTRA_ARGS="${EXTRA_ARGS---ignore-encoding --ignore-digest}"
DURABLE="${DURABLE:-1}"
UNIT_TIMEOUT="${UNIT_TIMEOUT:-1200}"
TEST_TIMEOUT="${TEST_TIMEOUT:-300}"
LOG_DIR="${LOG_DIR:-/tmp/redeno-suite-logs/$SERVER-$(date +%Y%m%d-%H%M%S)}"
SAVE_AS="${SAVE_AS:-}"
KEEP_WORK="${KEEP_WORK:-0}"
STRICT="${STRICT:-0}"
TLS="${TLS:-0}"
DEFAULT_UNITS="unit/maxmemory unit/lazyfree unit/scripting"

die() { echo "redis-suite: $*" >&2; exit 2; }

case "$PROFILE" in
    # needs:debug     DEBUG RELOAD/POPULATE/JMAP/... (redeno has HELP, SLEEP, SET-ACTIVE-EXPIRE,
    #                 CHANGE-REPL-ID, OBJECT only)
    # needs:repl, needs:save, needs:pfdebug, needs:latency: as the external-mode suite leaves out
    M) profile_tags="-needs:debug -needs:repl -needs:save -needs:pfdebug -needs:latency" ;;
    full) profile_tags="" ;;
    *) die "unknown PROFILE=$PROFILE (M or full)" ;;
esac
TAGS="${TAGS-$profile_tags}"

tclsh_bin="$(command -v tclsh8.6 || command -v tclsh8.7 || command -v tclsh || true)"
[ -n "$tclsh_bin" ] || die "no tclsh (apt-get install tcl)"
command -v timeout >/dev/null || die "timeout(1) not found (coreutils)"
[ -f "$REDIS_TESTS/tests/test_helper.tcl" ] || die "no tests/test_helper.tcl under REDIS_TESTS=$REDIS_TESTS"
REDIS_TESTS="$(cd "$REDIS_TESTS" && pwd)"
case "$SERVER" in
    redeno)
        case "$RUNTIME" in
            deno) [ -x "$PROJECT/node_modules/.bin/deno" ] || die "no $PROJECT/node_modules/.bin/deno (npm ci)" ;;
            node) [ -f "$PROJECT/node_modules/tsx/dist/loader.mjs" ] || die "no tsx in $PROJECT/node_modules (npm ci)" ;;
            *) die "unknown RUNTIME=$RUNTIME (deno or node)" ;;
        esac
        [ -f "$PROJECT/main.ts" ] || die "no main.ts in PROJECT=$PROJECT" ;;
    redis) [ -x "$REDIS_SERVER" ] || die "REDIS_SERVER=$REDIS_SERVER is not executable" ;;
    *) die "unknown SERVER=$SERVER (redeno or redis)" ;;
esac
cli="$(command -v redis-cli || true)"
[ -n "$cli" ] || die "redis-cli not found (Debian package redis-tools)"
bench="$(command -v redis-benchmark || true)"

if [ $# -gt 0 ]; then units=("$@"); else read -r -a units <<<"$DEFAULT_UNITS"; fi

# The work tree: every entry of tests/ is a link except tmp/ (the runner writes configs and server
# directories there and deletes tests/tmp/server.* at its start, so it must be private).
work="$(mktemp -d /tmp/redeno-suite.XXXXXX)" || die "mktemp failed"
mkdir -p "$work/tests/tmp" "$work/src" "$LOG_DIR" || die "cannot create $work or LOG_DIR=$LOG_DIR"
for entry in "$REDIS_TESTS"/tests/*; do
    [ "$(basename "$entry")" = tmp ] || ln -s "$entry" "$work/tests/"
done
[ -f "$REDIS_TESTS/runtest" ] && ln -s "$REDIS_TESTS/runtest" "$work/runtest"
# TLS mode: the certificates of Redis's utils/gen-test-certs.sh (a CA; server-only, client-only
# and unrestricted certificates; DH parameters), in the private tests/tls.
make_test_certs() {
    local d="$work/tests/tls" name
    mkdir -p "$d" || return 1
    openssl genrsa -out "$d/ca.key" 2048 &&
        openssl req -x509 -new -nodes -sha256 -key "$d/ca.key" -days 30 \
            -subj '/O=Redis Test/CN=Certificate Authority' -out "$d/ca.crt" || return 1
    printf '[ server_cert ]\nkeyUsage = digitalSignature, keyEncipherment\nnsCertType = server\n[ client_cert ]\nkeyUsage = digitalSignature, keyEncipherment\nnsCertType = client\n' >"$d/openssl.cnf"
    for name in server:Server-only:server_cert client:Client-only:client_cert redis:Generic-cert:; do
        IFS=: read -r file cn ext <<<"$name"
        openssl genrsa -out "$d/$file.key" 2048 &&
            openssl req -new -sha256 -subj "/O=Redis Test/CN=$cn" -key "$d/$file.key" |
            openssl x509 -req -sha256 -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAserial "$d/ca.txt" \
                -CAcreateserial -days 30 ${ext:+-extfile "$d/openssl.cnf" -extensions "$ext"} \
                -out "$d/$file.crt" || return 1
    done
    # RFC 7919's ffdhe2048 group: instant, where generating DH parameters takes minutes.
    openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out "$d/redis.dh"
}
if [ "$TLS" = 1 ]; then
    rm -f "$work/tests/tls"
    make_test_certs >/dev/null 2>&1 || die "cannot make the TLS test certificates (openssl)"
    echo 'package require tls' | "$tclsh_bin" >/dev/null 2>&1 || die "no Tcl tls package (apt-get install tcl-tls)"
fi
{
    echo '#!/usr/bin/env bash'
    echo "# Made by $here/run.sh: the server under test for the runner."
    printf 'export SUITE_SERVER=%q PROJECT=%q RUNTIME=%q REDIS_SERVER=%q\n' \
        "$SERVER" "$PROJECT" "$RUNTIME" "$REDIS_SERVER"
    printf 'exec %q "$@"\n' "$here/server-shim.sh"
} >"$work/src/redis-server"
chmod +x "$work/src/redis-server"
ln -s "$cli" "$work/src/redis-cli"
[ -n "$bench" ] && ln -s "$bench" "$work/src/redis-benchmark"

# shellcheck source=scripts/redis-suite/strays.sh
. "$here/strays.sh"

# One runner log -> "ok err exc skip done aborted"; appends "unit<TAB>result<TAB>name" rows to $2.
parse_log() {
    awk -v unit="$3" -v out="$2" '
        function row(kind, name) { gsub(/\t/, " ", name); printf "%s\t%s\t%s\n", unit, kind, name >> out }
        function flush() {
            if (inerr) { if (trace) { exc++; row("exc", ename) } else { err++; row("err", ename) } }
            inerr = 0; trace = 0
        }
        /^ *The End$/      { flush(); stop = 1 }
        stop               { next }
        /^\[ok\]: /        { flush(); ok++; n = substr($0, 7); sub(/ \([0-9]+ ms\)$/, "", n); row("ok", n); next }
        /^\[err\]: /       { flush(); inerr = 1; ename = substr($0, 8); sub(/ in tests\/[^ ]*\.tcl$/, "", ename); next }
        /^\[skip\]: /      { flush(); skip++; row("skip", substr($0, 9)); next }
        /^\[ignore\]: /    { flush(); skip++; row("ignore", substr($0, 11)); next }
        /^\[exception\]: / { flush(); aborted = 1; row("aborted", substr($0, 14, 200)); next }
        /^\[TIMEOUT\]: /   { flush(); aborted = 2; row("stalled", "runner [TIMEOUT]"); next }
        /^\[[0-9]+\/[0-9]+ done\]: / { flush(); done = 1; next }
        /^\[/              { flush(); next }
        inerr && /^[ \t]+(while executing|invoked from within|\(procedure )/ { trace = 1 }
        END { flush(); printf "%d %d %d %d %d %d\n", ok, err, exc, skip, done, aborted }
    ' "$1"
}

args=(--clients 1 --timeout "$TEST_TIMEOUT" --baseport "$BASEPORT" --portcount "$PORTCOUNT")
[ "$DURABLE" = 1 ] && args+=(--durable)
[ "$KEEP_WORK" = 1 ] && args+=(--dont-clean)
[ "$TLS" = 1 ] && args+=(--tls)
[ -n "$TAGS" ] && args+=(--tags "$TAGS")
while IFS= read -r name; do
    [ -n "$name" ] && args+=(--skiptest "$name")
done <<<"${SKIP_TESTS:-}"
# shellcheck disable=SC2206 # EXTRA_ARGS is a list of words on purpose
[ -n "$EXTRA_ARGS" ] && args+=($EXTRA_ARGS)

what="$SERVER"
if [ "$SERVER" = redeno ]; then
    dirty="$(git -C "$PROJECT" status --porcelain --untracked-files=no 2>/dev/null | wc -l)"
    what="redeno ($RUNTIME, $PROJECT @ $(git -C "$PROJECT" rev-parse --short HEAD 2>/dev/null || echo '?'), $dirty changed file(s) not committed)"
fi
[ "$SERVER" = redis ] && what="$("$REDIS_SERVER" --version | cut -d' ' -f1-3)"
echo "# redis-suite (runner-started servers): $what; profile $PROFILE; logs $LOG_DIR" >&2
echo "# runner flags: ${args[*]}" >&2
printf 'unit\tok\terr\texc\tskip\ttime_s\tstatus\n' >"$LOG_DIR/summary.tsv"
printf 'unit\tresult\ttest\n' >"$LOG_DIR/results.tsv"

tot_ok=0 tot_err=0 tot_exc=0 tot_skip=0 harness_error=0
for unit in "${units[@]}"; do
    unit="${unit%.tcl}"; unit="${unit#tests/}"
    log="$LOG_DIR/$(echo "$unit" | tr '/' '_').log"
    if [ ! -f "$REDIS_TESTS/tests/$unit.tcl" ]; then
        echo "$unit ok=0 err=0 exc=0 skip=0 time=0s missing-unit"
        printf '%s\t0\t0\t0\t0\t0\tmissing-unit\n' "$unit" >>"$LOG_DIR/summary.tsv"
        harness_error=1
        continue
    fi
    status=""
    start=$(date +%s)
    # timeout(1) signals its whole process group on expiry: the runner, its test client and the
    # servers they started.
    ( cd "$work" && TERM=dumb exec timeout -k 15 "$UNIT_TIMEOUT" \
        "$tclsh_bin" "$here/launcher.tcl" "${args[@]}" --single "$unit" ) </dev/null >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    stop_strays
    read -r ok err exc skip finished aborted < <(parse_log "$log" "$LOG_DIR/results.tsv" "$unit")
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        status="timeout"; exc=$((exc + 1))
    elif [ "$aborted" = 1 ]; then
        status="aborted"; exc=$((exc + 1))
    elif [ "$aborted" = 2 ]; then
        status="stalled"; exc=$((exc + 1))
    elif [ "$finished" != 1 ]; then
        status="no-result"; exc=$((exc + 1))
    fi
    echo "$unit ok=$ok err=$err exc=$exc skip=$skip time=${secs}s${status:+ $status}"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$unit" "$ok" "$err" "$exc" "$skip" "$secs" "$status" >>"$LOG_DIR/summary.tsv"
    tot_ok=$((tot_ok + ok)); tot_err=$((tot_err + err)); tot_exc=$((tot_exc + exc)); tot_skip=$((tot_skip + skip))
done

failed=$((tot_err + tot_exc))
echo "redis-suite: $tot_ok passed, $failed failed"
echo "# totals: ok=$tot_ok err=$tot_err exc=$tot_exc skip=$tot_skip (logs: $LOG_DIR)" >&2

if [ -n "$SAVE_AS" ]; then
    cp "$LOG_DIR/summary.tsv" "$here/baseline/$SAVE_AS.summary.tsv"
    cp "$LOG_DIR/results.tsv" "$here/baseline/$SAVE_AS.results.tsv"
    echo "# saved: $here/baseline/$SAVE_AS.{summary,results}.tsv" >&2
fi

[ "$harness_error" = 1 ] && exit 2
[ "$STRICT" = 1 ] && [ "$failed" -gt 0 ] && exit 1
exit 0
}
