# Shared set-up for Mailmover's scripts: source it, then call need_packages.
# shellcheck shell=bash

# Debian packages needed to build the window (Fyne: OpenGL, X11, Wayland headers).
BUILD_PACKAGES="gcc libc6-dev pkg-config libgl-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev libwayland-dev libxkbcommon-dev"
# Debian packages the tests need: real Dovecot, a real Secret Service, Python for an independent mbox reader.
TEST_PACKAGES="dovecot-core dovecot-imapd dovecot-sieve dovecot-managesieved radicale gnome-keyring dbus python3"

# need_packages PKG...: installs the Debian packages that are missing, with
# sudo when not root; if it cannot, prints the exact apt line and fails.
need_packages() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local line="apt-get update && apt-get install -y ${missing[*]}"
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "Mailmover needs these packages: ${missing[*]}. Install them with your system's package manager." >&2
		return 1
	fi
	local sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
			echo "Please run as root: $line" >&2
			return 1
		fi
	fi
	echo "Installing ${missing[*]}" >&2
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || {
		echo "Could not install packages. Run: sudo $line" >&2
		return 1
	}
}

# need_go: checks that Go is there (1.22 or newer; go.mod's toolchain is fetched by Go itself).
need_go() {
	if ! command -v go >/dev/null 2>&1; then
		for d in /usr/local/go/bin "$HOME/go/bin" /usr/lib/go/bin; do
			[ -x "$d/go" ] && export PATH="$d:$PATH" && break
		done
	fi
	if ! command -v go >/dev/null 2>&1; then
		need_packages golang-go || return 1
	fi
	go mod download
}
