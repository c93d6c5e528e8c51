# SPDX-License-Identifier: Apache-2.0
#
# Shared by bench/run.sh and bench/compare.sh (sourced).

# The median of the arguments (numbers); nothing when there are none.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
  if (NR == 0) exit; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# result LOG NAME KEY: KEY's value on the "RESULT NAME k=v ..." line that a
# benchmark binary printed to LOG, when that line says ok=1.
result() {
  awk -v name="$2" -v key="$3" '$1 == "RESULT" && $2 == name {
    for (i = 3; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
    if (r["ok"] == 1) print r[key] }' "$1"
}
