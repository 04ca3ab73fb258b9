#!/usr/bin/env bash
# build-cmp-server.sh: build the real Argo CD argocd-cmp-server (the pin is
# github.com/argoproj/argo-cd/v3 in tools/argocd/go.mod) once per machine into
# ${EGMC_TOOLS_CACHE:-$HOME/.cache/egmc-tools}, outside the work tree.
#
# Idempotent: the binary is rebuilt only when it is missing or `go version -m`
# shows it was built from another Argo CD version. Cold (empty Go build
# cache) it took about 7 minutes on 2 busy cores, and makes a static binary of
# about 100 MB.
#
# Usage: tools/argocd/build-cmp-server.sh   (prints the binary's path)
set -euo pipefail

GO=${GO:-go}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${EGMC_TOOLS_CACHE:-$HOME/.cache/egmc-tools}
bin=$cache/argocd-cmp-server

# log MESSAGE...: progress on stderr, so stdout carries only the binary path.
log() { echo "build-cmp-server: $*" >&2; }

version=$(cd "$here" && "$GO" list -m -f '{{.Version}}' github.com/argoproj/argo-cd/v3)
[ -n "$version" ] || { log "no github.com/argoproj/argo-cd/v3 pin in $here/go.mod"; exit 1; }

if [ -x "$bin" ] && "$GO" version -m "$bin" 2>/dev/null |
	grep -Eq "^[[:space:]]+dep[[:space:]]+github.com/argoproj/argo-cd/v3[[:space:]]+$version([[:space:]]|$)"; then
	log "argocd-cmp-server $version already in $cache"
	echo "$bin"
	exit 0
fi

log "building argocd-cmp-server $version into $cache (cold: ~3 min)"
mkdir -p "$cache"
start=$SECONDS
pkg=github.com/argoproj/argo-cd/v3/common
(cd "$here" && GOFLAGS="${GOFLAGS:-} -buildvcs=false" CGO_ENABLED=0 "$GO" build -trimpath \
	-ldflags "-X $pkg.version=${version#v} -X $pkg.gitTag=$version" \
	-o "$bin.tmp" ./cmd/argocd-cmp-server && mv "$bin.tmp" "$bin")
log "argocd-cmp-server $version built in $((SECONDS - start))s ($(du -h "$bin" | cut -f1))"
echo "$bin"
