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

build_egctl() {
	local bin=$cache/egctl
	if built_from "$bin" "^[[:space:]]+mod[[:space:]]+github.com/envoyproxy/gateway[[:space:]]+$EGCTL_VERSION([[:space:]]|$)"; then
		log "egctl $EGCTL_VERSION already in $cache"
		return
	fi
	log "building egctl $EGCTL_VERSION into $cache (cold: ~10 min, ~3 GB module cache)"
	local start=$SECONDS
	(cd "$cache" && GOBIN=$cache GOFLAGS=-buildvcs=false "$GO" install "github.com/envoyproxy/gateway/cmd/egctl@$EGCTL_VERSION")
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
