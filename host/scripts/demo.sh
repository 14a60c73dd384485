#!/usr/bin/env bash
# make demo: a standalone Ironic with a mix of nodes, mogan-api with the
# Ironic driver on the embedded SQLite default (noauth, loopback), then the
# manage workflow end to end with curl. Everything lives in .demo/ and is
# stopped on exit (DEMO_KEEP=1 keeps mogan-api and Ironic running until
# Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
demo=$root/.demo
bin=$root/bin

rm -rf "$demo"
mkdir -p "$demo"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
pretty() { jq . 2>/dev/null || cat; }

api_pid=
cleanup() {
  [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null || true
  "$bin/ironic-standalone" stop --dir "$demo/ironic" >/dev/null 2>&1 || true
}
trap cleanup EXIT

say "Starting a standalone Ironic (Debian's python3-ironic, from make test-deps)"
eval "$("$bin/ironic-standalone" start --dir "$demo/ironic")"   # sets URL, PID, LOG
ironic=$URL
echo "Ironic at $ironic (pid $PID, log $LOG)"

say "Enrolling nodes: 3 adoptable, 1 associated, 1 in maintenance, 1 available, 1 without resource class"
"$bin/ironic-standalone" fixture --dir "$demo/ironic" --adoptable 3 --associated 1 \
  --maintenance 1 --available 1 --no-resource-class 1 | tee "$demo/nodes.txt"
node=$(awk '$2 == "adoptable" {print $1; exit}' "$demo/nodes.txt")

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$demo/mogan.conf" <<CONF
[DEFAULT]
auth_strategy = noauth
state_path = $demo

[api]
host_ip = 127.0.0.1
port = $port

[driver]
name = ironic
plugin_dir = $bin

[ironic]
url = $ironic
auth_type = none
CONF
api=http://127.0.0.1:$port

say "Starting mogan-api ($demo/mogan.conf, SQLite at $demo/mogan.sqlite)"
"$bin/mogan-api" --config-file "$demo/mogan.conf" >"$demo/mogan-api.log" 2>&1 &
api_pid=$!
for _ in $(seq 100); do
  curl -sf "$api/healthz" >/dev/null && break
  kill -0 "$api_pid" 2>/dev/null || { cat "$demo/mogan-api.log"; exit 1; }
  sleep 0.1
done
echo "mogan-api at $api (pid $api_pid, log $demo/mogan-api.log)"

say "GET /v1/manageable_servers"
curl -s "$api/v1/manageable_servers" | pretty

say "GET /v1/manageable_servers?all=true (every node, with the reason it cannot be managed)"
curl -s "$api/v1/manageable_servers?all=true" | jq -c '.manageable_servers[] | {uuid, manageable, reason}' 2>/dev/null \
  || curl -s "$api/v1/manageable_servers?all=true"

say "POST /v1/manageable_servers: adopt node $node"
curl -s -D "$demo/manage.headers" -H 'Content-Type: application/json' \
  -d "{\"name\": \"adopted-web-1\", \"description\": \"adopted by the demo\", \"metadata\": {\"rack\": \"r1\"}, \"node_uuid\": \"$node\"}" \
  "$api/v1/manageable_servers" | tee "$demo/server.json" | pretty
grep -i '^location:' "$demo/manage.headers" || true
server=$(jq -r .uuid "$demo/server.json")

say "GET /v1/servers/$server"
curl -s "$api/v1/servers/$server" | pretty

say "Ironic now shows the node associated with the server (instance_uuid)"
curl -s -H 'X-OpenStack-Ironic-API-Version: latest' "$ironic/v1/nodes/$node?fields=uuid,name,provision_state,instance_uuid" | pretty

say "Adopting the same node again is refused"
curl -s -H 'Content-Type: application/json' -d "{\"name\": \"again\", \"node_uuid\": \"$node\"}" "$api/v1/manageable_servers" | pretty

if [ "${DEMO_KEEP:-}" = 1 ]; then
  say "mogan-api at $api and Ironic at $ironic keep running; Ctrl-C stops them"
  wait "$api_pid"
fi
