# Starts Redis's Tcl test runner (tests/test_helper.tcl of the work tree made by run.sh) with two
# changes, nothing else of the runner or the tests being altered:
#
# 1. The helper that picks free ports probes only the port itself, on 127.0.0.1. Upstream's also
#    probes port+10000 (a cluster-bus port), which would leave the range given by
#    --baseport/--portcount.
# 2. (Unless REDENO_SUITE_DURABLE_FIX=0.) With --durable, an error raised in the body of a
#    start_server block outside any `test` (e.g. `r script debug sync` in unit/scripting) is meant
#    to fail that block and let the unit go on. In 7.0.15, start_server then pops its server from
#    ::servers a second time: with no enclosing server it dies on `key "pid" not known in
#    dictionary` and the rest of the unit is lost; inside another block it kills the enclosing
#    server. The fix puts the (already stopped) server back on the stack, without its closed client,
#    so that the second pop takes it and finds it stopped. A server that passes never reaches this
#    path, so redis-server's results are the same with and without the fix.
#
# The runner is evaluated rather than sourced so that [info script] stays this file: the runner
# starts its test client by re-executing [info script], which thus goes through here too.
# Run it with the work tree as the current directory.

proc ::redeno_suite_find_port {start count} {
    if {![info exists ::redeno_suite_next] || $::redeno_suite_next < $start ||
        $::redeno_suite_next >= $start + $count} {
        set ::redeno_suite_next $start
    }
    for {set i 0} {$i < $count} {incr i} {
        set port $::redeno_suite_next
        incr ::redeno_suite_next
        if {$::redeno_suite_next >= $start + $count} { set ::redeno_suite_next $start }
        if {![catch {socket -server ::redeno_suite_unused -myaddr 127.0.0.1 $port} fd]} {
            close $fd
            return $port
        }
    }
    error "Can't find a non busy port in the $start-[expr {$start + $count - 1}] range."
}

proc ::redeno_suite_fix_durable {} {
    if {[info exists ::env(REDENO_SUITE_DURABLE_FIX)] && $::env(REDENO_SUITE_DURABLE_FIX) eq "0"} {
        return
    }
    set anchor {send_data_packet $::test_server_fd err [join $details "\n"]}
    set body [info body ::start_server]
    set at [string first $anchor $body]
    if {$at < 0 || [string first $anchor $body [expr {$at + 1}]] >= 0} {
        puts "redeno-suite launcher: start_server not as expected, --durable fix not applied"
        return
    }
    set end [expr {$at + [string length $anchor]}]
    set fix "\n                dict unset srv client; lappend ::servers \$srv ;# redeno-suite fix\n"
    set body "[string range $body 0 [expr {$end - 1}]]$fix[string range $body $end end]"
    set params {}
    foreach arg [info args ::start_server] {
        if {[info default ::start_server $arg value]} {
            lappend params [list $arg $value]
        } else {
            lappend params $arg
        }
    }
    proc ::start_server $params $body
}

proc ::redeno_suite_after_source {cmd code result op} {
    if {[string match {*support/util.tcl*} $cmd]} {
        rename ::find_available_port {}
        rename ::redeno_suite_find_port ::find_available_port
        trace remove execution source leave ::redeno_suite_after_source
    } elseif {[string match {*support/server.tcl*} $cmd]} {
        ::redeno_suite_fix_durable
    }
}
trace add execution source leave ::redeno_suite_after_source

set fd [open tests/test_helper.tcl r]
set runner [read $fd]
close $fd
unset fd
eval $runner
