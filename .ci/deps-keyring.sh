#!/usr/bin/env bash
# Installs what the Secret Service integration test (.ci/test-keyring.sh)
# needs: gnome-keyring (gnome-keyring-daemon) and dbus (dbus-run-session).
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh
need_packages gnome-keyring dbus
