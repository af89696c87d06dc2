#!/usr/bin/env bash
# The reminder-wave runs recorded in bench/RESULTS.md, one after another (about an hour on 2
# cores): SQLite and PostgreSQL with one process (the baselines), two processes on PostgreSQL,
# then both databases through the faults with a process killed half-way.
#   bench/wave_suite.sh [OUT.jsonl]       (PostgreSQL at $BENCH_POSTGRES, default the local server)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bench/results.jsonl}"
pg="${BENCH_POSTGRES:-postgresql://postgres@127.0.0.1:5432}"
python=".venv/bin/python"
fresh() {  # a new, empty PostgreSQL database for one run
  psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS relais_wave" -c "CREATE DATABASE relais_wave" >/dev/null
  echo "${pg/postgresql:/postgresql+asyncpg:}/relais_wave"
}
$python bench/reminder_wave.py --json "$out"
$python bench/reminder_wave.py --database "$(fresh)" --json "$out"
$python bench/reminder_wave.py --database "$(fresh)" --processes 2 --json "$out"
$python bench/reminder_wave.py --database "$(fresh)" --processes 2 --faults --kill-at 0.5 --json "$out"
$python bench/reminder_wave.py --faults --kill-at 0.5 --json "$out"
