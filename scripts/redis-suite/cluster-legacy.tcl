# Starts the legacy Redis Cluster suite (tests/cluster/run.tcl of the work tree made by
# cluster-legacy.sh) with one change: the instances' port range. Upstream's harness
# (tests/instances.tcl) takes ports from 30000 up to 1024 of them, with no option to move them;
# here the first two arguments are the base port and the count, the rest is the runner's own
# arguments (--single PATTERN, --dont-clean, ...). Nothing of the tests or the harness is altered.
# Run it with the work tree as the current directory.

set ::redeno_legacy_base [lindex $argv 0]
set ::redeno_legacy_count [lindex $argv 1]
set argv [lrange $argv 2 end]
set argc [llength $argv]

proc ::redeno_legacy_after_source {cmd code result op} {
    if {[string match {*instances.tcl*} $cmd]} {
        set ::redis_base_port $::redeno_legacy_base
        set ::redis_port_count $::redeno_legacy_count
        trace remove execution source leave ::redeno_legacy_after_source
    }
}
trace add execution source leave ::redeno_legacy_after_source

source tests/cluster/run.tcl
