#!/usr/bin/env bash
# Runs the Secret Service integration test of core/secret for real: a private
# D-Bus session bus with gnome-keyring-daemon serving org.freedesktop.secrets,
# under a fresh HOME so that no real keyring is touched. The login keyring is
# created and unlocked with a throwaway password.
set -euo pipefail

cd "$(dirname "$0")/.."
bash .ci/deps-keyring.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home" "$tmp/config" "$tmp/data" "$tmp/cache" "$tmp/runtime"
chmod 700 "$tmp/runtime"

# Keep the Go caches where they are: only the keyring's home is fresh.
export GOCACHE="${GOCACHE:-$(go env GOCACHE)}"
export GOMODCACHE="${GOMODCACHE:-$(go env GOMODCACHE)}"
export GOPATH="${GOPATH:-$(go env GOPATH)}"
export GOENV="${GOENV:-$(go env GOENV)}"

env -u DBUS_SESSION_BUS_ADDRESS \
	HOME="$tmp/home" \
	XDG_CONFIG_HOME="$tmp/config" \
	XDG_DATA_HOME="$tmp/data" \
	XDG_CACHE_HOME="$tmp/cache" \
	XDG_RUNTIME_DIR="$tmp/runtime" \
	dbus-run-session -- sh -c '
		echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
		MAILMOVER_SECRET_SERVICE=1 go test -race -count=1 -v -run SecretService ./core/secret/
	'
