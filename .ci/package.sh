#!/usr/bin/env bash
# Builds an installable Mailmover with Fyne's packager:
#
#   .ci/package.sh linux      mailmover.tar.xz (binary, desktop file, icon)
#   .ci/package.sh windows    Mailmover.exe with its icon and version, cross-built with MinGW
#
# macOS bundles must be built on a Mac (see README, "Packaging").
# The packager counts builds in FyneApp.toml; that count is put back, so a
# package never leaves the tree changed.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh
target="${1:-linux}"
need_packages $BUILD_PACKAGES
need_go
bin="$(mktemp -d)"
cp FyneApp.toml "$bin/FyneApp.toml"
trap 'cp "$bin/FyneApp.toml" FyneApp.toml; rm -rf "$bin"' EXIT
# The packager itself is built for this machine, before CC points elsewhere.
GOBIN="$bin" go install fyne.io/tools/cmd/fyne@v1.7.4
case "$target" in
linux)
	"$bin/fyne" package -os linux
	;;
windows)
	need_packages gcc-mingw-w64-x86-64
	CC=x86_64-w64-mingw32-gcc CGO_ENABLED=1 "$bin/fyne" package -os windows
	;;
*)
	echo "package.sh: unknown target $target: use linux or windows" >&2
	exit 2
	;;
esac
