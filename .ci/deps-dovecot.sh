#!/usr/bin/env bash
# Installs what the Dovecot integration tests (mailmover/core/dovecottest)
# need: the Dovecot 2.3 master and its IMAP server. The tests start their own
# throwaway servers on free 127.0.0.1 ports with their own configuration and
# never use the system service, so a service the package started is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh
if ! dpkg-query -W -f='${Status}' dovecot-imapd 2>/dev/null | grep -q "install ok installed"; then
	need_packages dovecot-core dovecot-imapd
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet dovecot 2>/dev/null; then
		systemctl stop dovecot 2>/dev/null || sudo -n systemctl stop dovecot 2>/dev/null || true
	elif [ -x /etc/init.d/dovecot ]; then
		/etc/init.d/dovecot stop >/dev/null 2>&1 || true
	fi
fi
version="$(/usr/sbin/dovecot --version 2>/dev/null || true)"
case "$version" in
2.3.*) echo "Dovecot $version" ;;
*)
	echo "/usr/sbin/dovecot is version '${version:-unknown}'; the tests need Dovecot 2.3 (Debian 12, Ubuntu 22.04/24.04)" >&2
	exit 1
	;;
esac
