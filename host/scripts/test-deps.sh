#!/usr/bin/env bash
# make test-deps: installs the Debian packages the harnesses under testenv/
# run for real (standalone Ironic, Keystone, Glance, Neutron, and psycopg2
# for PostgreSQL). Done once, up front, so that tests never run apt-get and
# test packages running in parallel never race for apt's lock. Only these
# packages, without recommends.
set -euo pipefail
# python3-openstackclient (a dependency of python3-keystone anyway) is the
# `openstack` command that docs/doctest runs as the operator guide does;
# curl, jq and openssl are the guide's other tools (on this machine's image
# already, listed so that a leaner one still gets them).
pkgs=(python3-ironic python3-keystone python3-glance python3-neutron python3-psycopg2 python3-openstackclient curl jq openssl)
need=()
for pkg in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "the tests need Debian's ${need[*]}: run make test-deps as root, or: apt-get install -y --no-install-recommends ${need[*]}" >&2
  exit 1
fi
echo "installing ${need[*]} (Debian packages the integration tests run)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${need[@]}"
