#!/usr/bin/env bash
# Installs what the Secret Service integration test (.ci/test-keyring.sh)
# needs on Debian/Ubuntu: gnome-keyring (gnome-keyring-daemon) and
# dbus-daemon (dbus-run-session; the "dbus" package pulls it in).
set -euo pipefail

missing=()
command -v gnome-keyring-daemon >/dev/null 2>&1 || missing+=(gnome-keyring)
command -v dbus-run-session >/dev/null 2>&1 || missing+=(dbus)
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps-keyring: gnome-keyring and dbus already installed"
	exit 0
fi

apt_line="apt-get install -y --no-install-recommends ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps-keyring: missing ${missing[*]} and no apt-get here; install them with your package manager" >&2
	exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
	sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	sudo=(sudo -n)
else
	echo "deps-keyring: missing ${missing[*]}; run as root:" >&2
	echo "  apt-get update && $apt_line" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" $apt_line
