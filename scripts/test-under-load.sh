#!/usr/bin/env bash
# The test suite under load: `npm test` RUNS times in a row (default 3) while BURNERS busy loops
# (default 4: twice the cores of a 2-core machine) compete for the CPU, as on a loaded CI machine.
# Prints each run's wall time and result lines; exits 1 if any run failed. The burners are killed
# on exit, whatever happens. Each run's whole output is kept in test-results/under-load-<n>.log;
# a failed run's end (where vitest lists its failures) is printed too.
#
#   scripts/test-under-load.sh            # 3 runs, 4 burners
#   scripts/test-under-load.sh 1 4        # one pass with 4 burners (before a change lands)
#   REQUIRE_SERVICES=1 scripts/test-under-load.sh
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
burners=${2:-4}
mkdir -p test-results

pids=()
stop_burners() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  pids=()
}
trap stop_burners EXIT
trap 'exit 130' INT TERM

for _ in $(seq 1 "$burners"); do
  (while :; do :; done) &
  pids+=($!)
done
echo "under load: ${burners} CPU burners on $(nproc) cores, ${runs} run(s) of npm test"

failed=0
for run in $(seq 1 "$runs"); do
  log="test-results/under-load-${run}.log"
  started=$(date +%s)
  npm test >"$log" 2>&1
  code=$?
  took=$(($(date +%s) - started))
  [ "$code" -eq 0 ] || failed=1
  # vitest's own lines, and the summary reporter's last line (colours stripped).
  results=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ +(Test Files|Tests|Duration) |^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$')
  printf 'run %d: %dm%02ds wall, exit %d\n%s\n' "$run" $((took / 60)) $((took % 60)) "$code" "$results"
  # A failed run shows its failures (vitest lists them at the end of its output).
  [ "$code" -eq 0 ] || sed 's/\x1b\[[0-9;]*m//g' "$log" | tail -n 150
done
exit "$failed"
