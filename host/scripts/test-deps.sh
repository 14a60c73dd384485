#!/usr/bin/env bash
# Installs what the integration tests run for real, from Debian's packages:
# a standalone Ironic and a standalone Keystone. Done once, up front, so
# that test packages running in parallel never race for apt's lock.
set -euo pipefail
need=()
for pkg in python3-ironic python3-keystone; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "the tests need Debian's ${need[*]}: run as root, or: apt-get install -y --no-install-recommends ${need[*]}" >&2
  exit 1
fi
echo "installing ${need[*]} (Debian packages the integration tests run)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${need[@]}"
