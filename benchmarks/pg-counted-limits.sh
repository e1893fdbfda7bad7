#!/bin/bash
# What counting request caps and lifetime budgets in PostgreSQL costs (EXACT_LIMITS_IN_DATABASE,
# docs/scaling.md "Several instances on PostgreSQL without Redis"): one instance with it and one
# without, on the same throwaway database, in alternating wrk rounds (`wrk -t1 -c$C`, chat
# completions against the mock upstream) for a token with no limit, one with max_requests, 16 with
# max_requests in turn, and one with a lifetime budget. Per run: requests a second, p50, and the
# database calls per request (llmp_limits_* calls from pg_stat_user_functions, and commits).
# Needs `npm run build`, psql, wrk, curl and PostgreSQL on 127.0.0.1:5432 (user postgres, trust);
# uses ports 19090, 18081 and 18082. DUR (seconds a run), ROUNDS, C (connections), TOKENS.
set -euo pipefail
cd "$(dirname "$0")/.."
DB=llmp_bench_dbcaps
PSQL="psql -h 127.0.0.1 -U postgres -tA"
$PSQL -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
$PSQL -d postgres -c "CREATE DATABASE $DB" >/dev/null
$PSQL -d postgres -c "ALTER DATABASE $DB SET track_functions = 'pl'" >/dev/null
W=$(mktemp -d); mkdir -p $W/a $W/b
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$W"
  $PSQL -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
}
trap cleanup EXIT
MT=bench-management-token-0123456789
KEY=$(head -c32 /dev/urandom | base64)
node dist/cli/main.js mock-upstream --port 19090 --api-key sk-up >$W/mock.log 2>&1 & PIDS+=($!)
common="DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB ENCRYPTION_KEY=$KEY MANAGEMENT_TOKEN=$MT OPENAI_API_URL=http://127.0.0.1:19090 LOG_LEVEL=warn MAINTENANCE_INTERVAL_MS=0 AUDIT_REFUSED_REQUESTS=false"
env $common LISTEN_ADDR=127.0.0.1:18081 DATA_DIR=$W/a EXACT_LIMITS_IN_DATABASE=true node dist/cli/main.js serve >$W/a.log 2>&1 & PIDS+=($!)
for i in $(seq 1 100); do curl -sf http://127.0.0.1:18081/ready >/dev/null && break; sleep 0.3; done
env $common LISTEN_ADDR=127.0.0.1:18082 DATA_DIR=$W/b EXACT_LIMITS_IN_DATABASE=false node dist/cli/main.js serve >$W/b.log 2>&1 & PIDS+=($!)
for i in $(seq 1 100); do curl -sf http://127.0.0.1:18082/ready >/dev/null && break; sleep 0.3; done
m() { curl -sf -X "$1" "http://127.0.0.1:18081/manage$2" -H "authorization: Bearer $MT" -H 'content-type: application/json' ${3:+-d "$3"}; }
P=$(m POST /projects '{"name":"bench","api_key":"sk-up"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).id')
tok() { m POST /tokens "{\"project_id\":\"$P\"$1}" | node -pe 'JSON.parse(require("fs").readFileSync(0)).token'; }
T_PLAIN=$(tok '')
T_CAP=$(tok ',"max_requests":1000000000')
T_BUDGET=$(tok ',"budget_usd":1000000,"budget_period":"total"')
lua() { cat > $W/$1.lua <<LUA
wrk.method = "POST"
wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":16}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $2"
LUA
}
lua plain $T_PLAIN; lua cap $T_CAP; lua budget $T_BUDGET
# 16 capped tokens, one after another per request: the load spread over 16 rows.
TS=""; for k in $(seq 1 16); do TS="$TS\"$(tok ',"max_requests":1000000000')\","; done
cat > $W/cap16.lua <<LUA
wrk.method = "POST"
wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":16}'
wrk.headers["Content-Type"] = "application/json"
tokens = {$TS}
i = 0
request = function()
  i = i % #tokens + 1
  wrk.headers["Authorization"] = "Bearer " .. tokens[i]
  return wrk.format()
end
LUA
calls() { $PSQL -d $DB -c "SELECT coalesce(sum(calls),0) FROM pg_stat_user_functions WHERE funcname LIKE 'llmp_limits_%'"; }
xacts() { $PSQL -d $DB -c "SELECT xact_commit FROM pg_stat_database WHERE datname = '$DB'"; }
DUR=${DUR:-8}; ROUNDS=${ROUNDS:-3}; C=${C:-16}
# Warm-up: every path once on each instance.
for port in 18081 18082; do for t in plain cap cap16 budget; do wrk -t1 -c$C -d2s -s $W/$t.lua http://127.0.0.1:$port/v1/chat/completions >/dev/null; done; done
echo "round server token req_s p50 non2xx fn_calls_per_req xacts_per_req"
for r in $(seq 1 $ROUNDS); do
  for cfg in "counted 18081" "memory 18082"; do
    set -- $cfg
    for t in ${TOKENS:-plain cap cap16 budget}; do
      sleep 0.5
      c0=$(calls); x0=$(xacts)
      out=$(wrk -t1 -c$C -d${DUR}s --latency -s $W/$t.lua http://127.0.0.1:$2/v1/chat/completions)
      sleep 1.2  # backends report their statistics about once a second
      c1=$(calls); x1=$(xacts)
      n=$(echo "$out" | awk '/requests in/ {print $1}')
      rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
      bad=$(echo "$out" | awk '/Non-2xx/ {print $5}'); bad=${bad:-0}
      p50=$(echo "$out" | awk '$1=="50%" {print $2}')
      echo "$r $1 $t $rps $p50 $bad $(echo "scale=3; ($c1-$c0)/$n" | bc) $(echo "scale=3; ($x1-$x0)/$n" | bc)"
    done
  done
done
