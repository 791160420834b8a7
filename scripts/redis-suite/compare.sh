#!/usr/bin/env bash
# Compare two results.tsv files written by run.sh (unit, result, test): every test that passed in
# BASE and did not pass in OTHER (failed, skipped, or never reached), one line each, then a count.
# Only the units present in OTHER are compared. With --all, every test of BASE is printed, side by
# side with its result in OTHER (a header line first), then the rows found only in OTHER ("-").
#   scripts/redis-suite/compare.sh [--all] baseline/redis-7.0.15-M.results.tsv /tmp/redeno-suite-logs/.../results.tsv
# A test that runs several times in a unit (unit/scripting runs most tests once per way of calling
# a script) is matched occurrence by occurrence. Output: unit<TAB>base result<TAB>other result<TAB>name
set -u
all=0
[ "${1:-}" = --all ] && { all=1; shift; }
[ $# -eq 2 ] || { echo "usage: $0 [--all] BASE.results.tsv OTHER.results.tsv" >&2; exit 2; }
awk -F'\t' -v all="$all" '
    FNR == 1 { file++; next }
    { name = $3
      if ($2 == "ignore") sub(/:? ?Tag: [^ ]+ denied$/, "", name)   # "<test>: Tag: needs:x denied"
      key = $1 "\t" name; n = ++seen[file, key]; k = key "\t" n
      if (file == 1) { base[k] = $2; order[++count] = k } else { other[k] = $2; units[$1] = 1; oorder[++ocount] = k } }
    END {
        if (all) printf "unit\t%s\t%s\ttest\n", ARGV[1], ARGV[2]
        for (i = 1; i <= count; i++) {
            k = order[i]
            split(k, p, "\t")
            if (!(p[1] in units)) continue
            res = (k in other) ? other[k] : "not-run"
            if (all) { printf "%s\t%s\t%s\t%s\n", p[1], base[k], res, p[2]; if (base[k] == "ok" && res != "ok") lost++; continue }
            if (base[k] != "ok" || res == "ok") continue
            printf "%s\t%s\t%s\t%s\n", p[1], base[k], res, p[2]
            lost++
        }
        for (i = 1; all && i <= ocount; i++) {
            k = oorder[i]
            if (k in base) continue
            split(k, p, "\t")
            printf "%s\t-\t%s\t%s\n", p[1], other[k], p[2]
        }
        printf "# %d test(s) pass in %s and not in %s\n", lost, ARGV[1], ARGV[2] > "/dev/stderr"
    }
' "$1" "$2"
