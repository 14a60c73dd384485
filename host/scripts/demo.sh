#!/usr/bin/env bash
# make demo: a small real OpenStack (standalone Ironic, Glance and Neutron)
# with a mix of nodes, mogan-api with the Ironic driver on the embedded
# SQLite default (noauth, loopback, Glance and Neutron configured,
# notifications to its log), then the manage workflow end to end with curl:
# the listing with images and Neutron ports resolved, an adoption that binds
# the node's Neutron ports, unmanage that restores them, and the
# notifications. Everything lives in .demo/ and is stopped on exit
# (DEMO_KEEP=1 keeps the services running until Ctrl-C).
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
  "$bin/openstack-standalone" stop --dir "$demo/cloud" >/dev/null 2>&1 || true
}
trap cleanup EXIT

say "Starting a standalone Ironic, Glance and Neutron (Debian's python3-*, from make test-deps)"
eval "$("$bin/openstack-standalone" start --dir "$demo/cloud")"   # sets IRONIC_URL, GLANCE_URL, NEUTRON_URL, NETWORK_ID, …
ironic=$IRONIC_URL glance=$GLANCE_URL neutron=$NEUTRON_URL
echo "Ironic at $ironic (log $IRONIC_LOG)"
echo "Glance at $glance, Neutron at $neutron (flat network $NETWORK_ID, subnet $SUBNET_ID)"

say "Enrolling nodes: 3 adoptable (image in Glance, VIFs in Neutron), 1 associated, 1 in maintenance, 1 available, 1 without resource class"
"$bin/openstack-standalone" enroll --dir "$demo/cloud" --adoptable 3 --associated 1 \
  --maintenance 1 --available 1 --no-resource-class 1 --json >"$demo/nodes.json"
jq -r '.[] | "\(.UUID) \(.Kind)"' "$demo/nodes.json"
node=$(jq -r '[.[] | select(.Kind == "adoptable")][0].UUID' "$demo/nodes.json")
url_node=$(jq -r '[.[] | select(.Kind == "adoptable")][1].UUID' "$demo/nodes.json")
vifs=$(jq -r --arg n "$node" '.[] | select(.UUID == $n) | (.Ports + .Portgroups)[] | .NeutronPortID | select(. != "")' "$demo/nodes.json")

say "Node $url_node gets an image that is a URL, not a Glance image, and loses a Neutron port (both listed as null)"
curl -sf -X PATCH -H 'X-OpenStack-Ironic-API-Version: latest' -H 'Content-Type: application/json' \
  -d '[{"op": "add", "path": "/instance_info/image_source", "value": "http://images.example/web.qcow2"}]' \
  "$ironic/v1/nodes/$url_node" | jq -c '{uuid, instance_info}'
gone_vif=$(jq -r --arg n "$url_node" '.[] | select(.UUID == $n) | .Ports[0].NeutronPortID' "$demo/nodes.json")
curl -sf -X DELETE "$neutron/v2.0/ports/$gone_vif"
echo "deleted Neutron port $gone_vif"

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

[glance]
url = $glance
auth_type = none

[neutron]
url = $neutron
auth_type = none

[oslo_messaging_notifications]
driver = log
CONF
api=http://127.0.0.1:$port

say "Starting mogan-api ($demo/mogan.conf, SQLite at $demo/mogan.sqlite)"
"$bin/mogan-api" --config-file "$demo/mogan.conf" >"$demo/mogan-api.log" 2>&1 &
api_pid=$!
# /readyz is 200 once the start-up repair pass is done and the store, the
# driver plugin and Ironic answer (/healthz answers before that).
for _ in $(seq 300); do
  curl -sf "$api/readyz" >/dev/null && break
  kill -0 "$api_pid" 2>/dev/null || { cat "$demo/mogan-api.log"; exit 1; }
  sleep 0.1
done
curl -sf "$api/readyz" >/dev/null || { echo "mogan-api is not ready; /readyz says:"; curl -s "$api/readyz"; echo; cat "$demo/mogan-api.log"; exit 1; }
echo "mogan-api at $api (pid $api_pid, log $demo/mogan-api.log)"

say "GET /v1/manageable_servers (image_source and neutron_port_id checked in Glance and Neutron)"
curl -sf "$api/v1/manageable_servers" | tee "$demo/manageable.json" | pretty
echo "Node $url_node, whose image is a URL and whose first port's Neutron port is gone:"
jq -c --arg n "$url_node" '.manageable_servers[] | select(.uuid == $n) | {uuid, image_source, ports: [.ports[] | {address, neutron_port_id}]}' "$demo/manageable.json"

say "GET /v1/manageable_servers?all=true (every node, with the reason it cannot be managed)"
curl -sf "$api/v1/manageable_servers?all=true" | jq -c '.manageable_servers[] | {uuid, manageable, reason}'

say "POST /v1/manageable_servers: adopt node $node"
curl -s -D "$demo/manage.headers" -H 'Content-Type: application/json' \
  -d "{\"name\": \"adopted-web-1\", \"description\": \"adopted by the demo\", \"metadata\": {\"rack\": \"r1\"}, \"node_uuid\": \"$node\"}" \
  "$api/v1/manageable_servers" | tee "$demo/server.json" | pretty
grep -i '^location:' "$demo/manage.headers" || true
server=$(jq -r .uuid "$demo/server.json")
[ "$server" != null ] || { echo "adoption failed; mogan-api log:"; tail -20 "$demo/mogan-api.log"; exit 1; }

say "GET /v1/servers/$server (addresses from the node's Neutron ports)"
curl -sf "$api/v1/servers/$server" | pretty

neutron_ports() {
  for vif in $vifs; do
    curl -sf "$neutron/v2.0/ports/$vif" | jq -c '.port | {id, mac_address, "binding:host_id", "binding:vnic_type", fixed_ips: [.fixed_ips[].ip_address]}'
  done
}
say "Neutron binds the node's ports to it (binding:host_id = node uuid, binding:vnic_type = baremetal)"
neutron_ports

say "Ironic now shows the node associated with the server (instance_uuid)"
curl -sf -H 'X-OpenStack-Ironic-API-Version: latest' "$ironic/v1/nodes/$node?fields=uuid,name,provision_state,instance_uuid" | pretty

say "Adopting the same node again is refused"
curl -s -w '\nHTTP %{http_code}\n' -H 'Content-Type: application/json' -d "{\"name\": \"again\", \"node_uuid\": \"$node\"}" "$api/v1/manageable_servers"

say "POST /v1/servers/$server/unmanage: release the node"
curl -s -o /dev/null -w 'HTTP %{http_code}\n' -X POST "$api/v1/servers/$server/unmanage"

say "Neutron's bindings are restored and Ironic's instance_uuid is null again"
neutron_ports
curl -sf -H 'X-OpenStack-Ironic-API-Version: latest' "$ironic/v1/nodes/$node?fields=uuid,instance_uuid" | jq -c .

say "Notifications ([oslo_messaging_notifications] driver = log) in $demo/mogan-api.log"
grep -E 'event_type=server\.(un)?manage\.' "$demo/mogan-api.log" || {
  echo "no server.manage/unmanage notification in the log"; exit 1
}

say "GET /readyz, and what GET /metrics counted (requests by route template, driver calls, upstream calls, adoptions)"
curl -sf "$api/readyz" | jq -c .
curl -sf "$api/metrics" | grep -E '^mogan_(http_requests_total|driver_calls_total|upstream_requests_total|adoptions_total|driver_plugin_restarts_total|notifications_dropped_total)' || {
  echo "no mogan_ counters in /metrics"; exit 1
}

if [ "${DEMO_KEEP:-}" = 1 ]; then
  say "mogan-api at $api, Ironic at $ironic, Glance at $glance and Neutron at $neutron keep running; Ctrl-C stops them"
  wait "$api_pid"
fi
