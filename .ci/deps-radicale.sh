#!/usr/bin/env bash
# Installs what the CardDAV/CalDAV integration tests
# (mailmover/core/dav/radicaletest) need: Radicale 3, the CardDAV and
# CalDAV server of Debian's radicale package. The tests start their own
# throwaway servers on free 127.0.0.1 ports with their own configuration
# and never use the system service, so a service the package started is
# stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh
if ! dpkg-query -W -f='${Status}' radicale 2>/dev/null | grep -q "install ok installed"; then
	need_packages radicale
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet radicale 2>/dev/null; then
		systemctl stop radicale 2>/dev/null || sudo -n systemctl stop radicale 2>/dev/null || true
	elif [ -x /etc/init.d/radicale ]; then
		/etc/init.d/radicale stop >/dev/null 2>&1 || true
	fi
fi
# The package installs the module for the system's Python; the tests look
# for /usr/bin/python3 first, then python3 on PATH.
for py in /usr/bin/python3 python3; do
	if version="$("$py" -c 'import radicale, sys; sys.stdout.write(radicale.VERSION)' 2>/dev/null)"; then
		case "$version" in
		3.*)
			echo "Radicale $version ($py)"
			exit 0
			;;
		esac
	fi
done
echo "no python3 here can import Radicale 3; the tests need the radicale package (Debian 12, Ubuntu 22.04/24.04)" >&2
exit 1
