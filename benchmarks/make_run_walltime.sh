#!/usr/bin/env bash
# Cold and warm wall time of `make run` on the data beside the repo; prints a markdown table row per run.
# cold = empty lake and fresh Airflow metadata (the venv is kept: installing it is not part of a nightly run);
# warm = the same command again over unchanged sources.
set -euo pipefail
cd "$(dirname "$0")/.."
make setup > /dev/null
rm -rf data .airflow
printf "| run | wall time (s) | postings | candidates | fact_match rows |\n|---|---|---|---|---|\n"
for kind in cold warm; do
  start=$(date +%s.%N)
  make run > "/tmp/skillmatch-bench-$kind.log" 2>&1
  end=$(date +%s.%N)
  counts=$(.venv/bin/python - <<'PY'
import duckdb
c = duckdb.connect("data/warehouse.duckdb", read_only=True)
q = lambda t: c.execute(f"SELECT count(*) FROM marts.{t}").fetchone()[0]
print(f"{q('dim_job_posting')} | {q('dim_candidate')} | {q('fact_match')}")
PY
)
  printf "| %s | %.0f | %s |\n" "$kind" "$(echo "$end - $start" | bc)" "$counts"
done
