#!/usr/bin/env bash
# Renders every screen of the built-in demo (start, accounts, plan, migrate,
# done) to PNG under Xvfb, for the README: the app runs the demo flow by
# itself when MAILMOVER_SCREENSHOT_DIR is set, saves each screen and quits.
#
#   .ci/screenshots.sh [output-dir]      (default assets/screenshots)
#
# Environment: SCREENSHOT_THEME=light|dark (default light),
# SCREENSHOT_LANG=en_US.UTF-8|fr_FR.UTF-8 (default English).
# Needs Go, a C compiler and the OpenGL/X11 headers Fyne builds with, and
# xvfb-run (Debian/Ubuntu: apt-get install xvfb).
set -euo pipefail

cd "$(dirname "$0")/.."
out="$(realpath -m "${1:-assets/screenshots}")"
lang="${SCREENSHOT_LANG:-en_US.UTF-8}"
shots=(start accounts plan migrate done cutover report backup archives batch)

if ! command -v xvfb-run >/dev/null 2>&1; then
	echo "screenshots: xvfb-run is missing; install it with: apt-get install xvfb" >&2
	exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "screenshots: building the app"
go build -o "$tmp/mailmover" .

# A throwaway home: no real preferences, accounts or keychain are touched,
# and no session bus answers, so passwords stay in memory.
mkdir -p "$tmp/home/.cache" "$tmp/home/.config" "$tmp/run"
chmod 700 "$tmp/run"
mkdir -p "$out"
for n in "${shots[@]}"; do
	rm -f "$out/$n.png"
done

echo "screenshots: running the demo under Xvfb"
HOME="$tmp/home" \
	XDG_CONFIG_HOME="$tmp/home/.config" \
	XDG_CACHE_HOME="$tmp/home/.cache" \
	XDG_RUNTIME_DIR="$tmp/run" \
	DBUS_SESSION_BUS_ADDRESS="unix:path=$tmp/run/no-bus" \
	LANG="$lang" \
	LANGUAGE="${lang%%_*}" \
	FYNE_THEME="${SCREENSHOT_THEME:-light}" \
	MAILMOVER_SCREENSHOT_DIR="$out" \
	timeout 300 xvfb-run -a -s "-screen 0 1280x800x24" "$tmp/mailmover" 2>"$tmp/log" || {
	cat "$tmp/log" >&2
	echo "screenshots: the app failed" >&2
	exit 1
}

missing=0
for n in "${shots[@]}"; do
	if [ ! -s "$out/$n.png" ]; then
		echo "screenshots: $n.png was not made" >&2
		missing=1
	fi
done
if [ "$missing" -ne 0 ]; then
	grep -v "XDG_RUNTIME_DIR\|cache space" "$tmp/log" >&2 || true
	echo "screenshots: does main.go pass MAILMOVER_SCREENSHOT_DIR to gui.Deps.ScreenshotDir?" >&2
	exit 1
fi
echo "screenshots: wrote ${shots[*]/%/.png} to $out"
