# Sourced by run.sh and cluster-legacy.sh (after they set $work and $KEEP_WORK): the servers a run
# leaves behind (a unit or file killed by its timeout) are found by their working directory, the
# work tree or a folder under it, which only processes this run started have; they are stopped,
# and the work tree removed, when the script exits.

stray_servers() {
    local p
    for p in /proc/[0-9]*; do
        case "$(readlink "$p/cwd" 2>/dev/null)" in "$work" | "$work"/*) echo "${p#/proc/}" ;; esac
    done
}
stop_strays() {
    local pids
    read -r -a pids <<<"$(stray_servers | tr '\n' ' ')"
    [ "${#pids[@]}" -gt 0 ] || return 0
    kill "${pids[@]}" 2>/dev/null
    sleep 2
    read -r -a pids <<<"$(stray_servers | tr '\n' ' ')"
    [ "${#pids[@]}" -gt 0 ] && kill -9 "${pids[@]}" 2>/dev/null
    return 0
}
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    stop_strays
    if [ "$KEEP_WORK" = 1 ]; then echo "# work tree kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
