#!/usr/bin/env bash
# build-tools.sh: build the real upstream egctl and istioctl once per machine
# into ${EGMC_TOOLS_CACHE:-$HOME/.cache/egmc-tools}, outside the work tree.
#
# Idempotent: a binary is rebuilt only when it is missing or `go version -m`
# shows it was built from another version. Cold, egctl takes about 10 minutes
# and 3 GB of module cache; istioctl a few minutes more.
#
# Usage: tools/conformance/build-tools.sh        (prints the cache directory)
set -euo pipefail

GO=${GO:-go}
# The Envoy Gateway pin lives in one place: the upstream.json that
# tools/crdschemas generates from its pins.
EGCTL_VERSION=$(sed -n '/"github.com\/envoyproxy\/gateway"/{n;s/.*"version": "\(.*\)".*/\1/p}' "$(dirname "$0")/../../compiler/validate/schemas/upstream.json")
[ -n "$EGCTL_VERSION" ] || { echo "build-tools: no Envoy Gateway pin in compiler/validate/schemas/upstream.json" >&2; exit 1; }
# istio.io/istio carries no Go-style tags, so the release-1.31 branch is only
# reachable as a pseudo-version. The module proxy serves this commit (VERSION
# file: 1.31); it answers 403 for the 1.31.1 commit 190ae921b848.
ISTIO_MODULE_VERSION=v0.0.0-20260827124520-eed52ebb66ad

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${EGMC_TOOLS_CACHE:-$HOME/.cache/egmc-tools}
mkdir -p "$cache"

# built_from BINARY PATTERN: true when BINARY exists and its embedded build
# information (go version -m) has a line matching the extended regexp PATTERN.
built_from() {
	[ -x "$1" ] && "$GO" version -m "$1" 2>/dev/null | grep -Eq "$2"
}

# log MESSAGE...: progress on stderr, so stdout carries only the cache path.
log() { echo "build-tools: $*" >&2; }

# egctl runs Envoy Gateway's translator with options of its own, not the
# controller's: it never sets SDSSecretRefEnabled, which a controller with
# extensionApis.enableSDSSecretRef sets, so every Secret of type
# gateway.envoyproxy.io/sds is refused as disabled. egmc's gateway-sds
# streams need that option (their EG values enable it), so egctl is built
# from a copy of the pinned module whose translate.go sets it in each
# Translator egctl makes. EGCTL_PATCH names the patch; the stamp file beside
# the binary records version and patch, since a build from a copy shows no
# module version in `go version -m`.
EGCTL_PATCH=sds-secret-ref-1

build_egctl() {
	local bin=$cache/egctl stamp=$cache/egctl.stamp
	local want="$EGCTL_VERSION $EGCTL_PATCH"
	if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
		log "egctl $want already in $cache"
		return
	fi
	log "building egctl $want into $cache (cold: ~10 min, ~3 GB module cache)"
	local start=$SECONDS
	local mod src=$cache/egctl-src
	mod=$(cd "$cache" && GOFLAGS=-mod=mod "$GO" mod download -json "github.com/envoyproxy/gateway@$EGCTL_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -d "$mod" ] || { echo "build-tools: no module directory for github.com/envoyproxy/gateway@$EGCTL_VERSION" >&2; exit 1; }
	rm -rf "$src" && cp -r "$mod" "$src" && chmod -R u+w "$src"
	local file=$src/internal/cmd/egctl/translate.go
	# Each Translator literal of translate.go sets BackendEnabled at two
	# tabs of indentation; the patch adds SDSSecretRefEnabled after it.
	sed -i 's/^\t\tBackendEnabled: .*,$/&\n\t\tSDSSecretRefEnabled: true,/' "$file"
	local n
	n=$(grep -c '^		SDSSecretRefEnabled: true,$' "$file" || true)
	[ "$n" = 3 ] || { echo "build-tools: expected 3 Translators in $file, patched $n: review the patch for $EGCTL_VERSION" >&2; exit 1; }
	(cd "$src" && GOFLAGS="-buildvcs=false -mod=mod" "$GO" build -o "$bin.tmp" ./cmd/egctl && mv "$bin.tmp" "$bin")
	echo "$want" > "$stamp"
	rm -rf "$src"
	log "egctl built in $((SECONDS - start))s"
}

build_istioctl() {
	local bin=$cache/istioctl
	if built_from "$bin" "^[[:space:]]+dep[[:space:]]+istio.io/istio[[:space:]]+$ISTIO_MODULE_VERSION([[:space:]]|$)"; then
		log "istioctl ($ISTIO_MODULE_VERSION) already in $cache"
		return
	fi
	log "building istioctl (istio.io/istio $ISTIO_MODULE_VERSION) into $cache"
	local start=$SECONDS
	local pkg=istio.io/istio/pkg/version
	(cd "$here/istioctl-wrapper" && GOFLAGS=-buildvcs=false "$GO" build -trimpath \
		-ldflags "-X $pkg.buildVersion=1.31-dev -X $pkg.buildGitRevision=${ISTIO_MODULE_VERSION##*-} -X $pkg.buildStatus=Clean" \
		-o "$bin.tmp" . && mv "$bin.tmp" "$bin")
	log "istioctl built in $((SECONDS - start))s"
}

build_egctl
build_istioctl
echo "$cache"
