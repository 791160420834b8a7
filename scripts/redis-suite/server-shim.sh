#!/usr/bin/env bash
# What the upstream runner starts as `src/redis-server CONFIG_FILE [ARGS...]` in the work tree made
# by run.sh. It execs (same PID, which the runner watches and signals) either redeno from a checkout
# or a stock redis-server:
#   SUITE_SERVER=redeno  PROJECT=<checkout> RUNTIME=deno|node
#   SUITE_SERVER=redis   REDIS_SERVER=/usr/bin/redis-server
# Both get `--pidfile CONFIG_FILE.pid` (the runner's default.conf names /var/run/redis.pid, shared by
# every server on the machine), last: the runner's arguments may start with values that belong to
# no option, which Redis reads as a line of their own (introspection's "wrong usage"). For redeno
# it first prints ` PID: <pid>`: the runner waits for that text in the server's stdout, which
# Redis prints in its start-up logo and redeno does not; and as that line comes before redeno
# tries the port, it checks the port is free first.
set -u
conf="${1:?usage: $0 CONFIG_FILE [ARGS...]}"
# Started with options only (introspection's command-line error cases run `src/redis-server
# --port`): no config file, no pidfile, nothing to wait for; the server reports the error.
if [ "${conf#--}" != "$conf" ]; then
    case "${SUITE_SERVER:-redeno}" in
        redis) exec "${REDIS_SERVER:-/usr/bin/redis-server}" "$@" ;;
        *)
            project="${PROJECT:?PROJECT (the redeno checkout) is not set}"
            if [ "${RUNTIME:-deno}" = node ]; then
                exec node --import "file://$project/node_modules/tsx/dist/loader.mjs" \
                    "$project/main.ts" "$@"
            fi
            exec "$project/node_modules/.bin/deno" run -A --config "$project/deno.json" \
                "$project/main.ts" "$@"
            ;;
    esac
fi
shift
case "${SUITE_SERVER:-redeno}" in
    redis)
        exec "${REDIS_SERVER:-/usr/bin/redis-server}" "$conf" "$@" --pidfile "$conf.pid"
        ;;
    redeno)
        project="${PROJECT:?PROJECT (the redeno checkout) is not set}"
        # The PID line tells the runner the server started, so a busy port must be caught first:
        # the runner then tries another port when it reads "Failed listening on port".
        port="$(awk '$1 == "port" { p = $2 } END { print p }' "$conf")"
        if [ -n "$port" ] && [ "$port" != 0 ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "redeno-suite shim: Failed listening on port $port (tcp): something already listens there"
            exit 1
        fi
        echo "redeno-suite shim: PID: $$ (runtime ${RUNTIME:-deno})"
        # A heap size given keeps main.ts from starting a copy of itself with a heap sized from the
        # machine: the runner signals this PID (SIGSTOP in integration/failover, kill -9 ...),
        # which must be the server, not its launcher.
        case "${RUNTIME:-deno}" in
            deno)
                exec "$project/node_modules/.bin/deno" run -A --config "$project/deno.json" \
                    --v8-flags=--max-semi-space-size=8,--max-old-space-size=4096 \
                    "$project/main.ts" "$conf" "$@" --pidfile "$conf.pid"
                ;;
            node)
                exec node --max-old-space-size=4096 \
                    --import "file://$project/node_modules/tsx/dist/loader.mjs" \
                    "$project/main.ts" "$conf" "$@" --pidfile "$conf.pid"
                ;;
            *) echo "server-shim: unknown RUNTIME ${RUNTIME}" >&2; exit 2 ;;
        esac
        ;;
    *) echo "server-shim: unknown SUITE_SERVER ${SUITE_SERVER}" >&2; exit 2 ;;
esac
