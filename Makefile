# egmc: the Envoy Gateway mesh compiler.
GO ?= go

.PHONY: all build test fmt vet update check-golden generate check-generate check

all: check

## build: build bin/egmc
build:
	$(GO) build -o bin/egmc ./cmd/egmc

## test: run every test (the README's test command)
test:
	$(GO) test ./...

## fmt: fail when gofmt or cue fmt would change a file
fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@$(GO) tool cue fmt --check ./schema/... ./profiles/...

## vet: go vet and cue vet of the embedded CUE
vet:
	$(GO) vet ./...
	$(GO) tool cue vet -c=false ./schema/... ./profiles/...

## update: rewrite golden files and script expectations (review the diff!)
update:
	EGMC_UPDATE=1 $(GO) test ./...

## check-golden: fail when regenerating the golden files changes anything
check-golden: update
	@git diff --exit-code -- golden cmd compiler || (echo "golden files are stale: run make update and review the diff"; exit 1)
	@test -z "$$(git status --porcelain -- golden cmd compiler)" || (git status --porcelain -- golden cmd compiler; echo "untracked golden files"; exit 1)

## generate: extract the pinned upstream CRD schemas (tools/crdschemas)
generate:
	$(GO) generate ./compiler/validate

## check-generate: fail when regenerating the schemas changes anything
check-generate: generate
	@git diff --exit-code -- compiler/validate/schemas || (echo "schemas are stale: run make generate"; exit 1)
	@test -z "$$(git status --porcelain -- compiler/validate/schemas)" || (git status --porcelain -- compiler/validate/schemas; exit 1)

## check: everything CI runs
check: fmt vet test race fuzz check-golden check-generate

.PHONY: race fuzz bench bench-smoke identity

## race: the concurrent parts (lint's workers, the shared schema, the parallel object check) under the race detector
race:
	$(GO) test -race -count=1 ./compiler/ ./compiler/lint/ ./compiler/module/ ./compiler/generate/ ./compiler/unify/

# Fuzzing runs a count of executions per target, not a duration: with a
# duration, Go 1.26's fuzz coordinator can fail a target with "context
# deadline exceeded" and no failing input at the deadline (golang/go#75804,
# fixed in Go 1.27). The counts take some 10-30 s each on 2 CPUs; FUZZTIME
# (a count such as 5000x, or a duration) overrides them all.
FUZZ_TARGETS := FuzzYAMLDecoding:40000x FuzzCUEDecoding:40000x FuzzCompile:1500x FuzzCompileCUE:600x

## fuzz: run each fuzz target for its count of executions (or FUZZTIME); failures land in compiler/testdata/fuzz
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		f=$${t%%:*}; n=$${FUZZTIME:-$${t#*:}}; \
		echo "$$f for $$n"; \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $$n -fuzzminimizetime 100x ./compiler/ || exit 1; \
	done

## bench: whole-process timings (build by routes, shared hostnames, minimal, lint of 200, re-emit, the floors) and the stage benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchtime $${BENCHTIME:-5x} -count 1 ./bench/ ./compiler/...

## identity: compare every output of the work tree's egmc with that of REF's, byte for byte, on the examples, bench and 400 random intents
identity:
	@test -n "$(REF)" || { echo "usage: make identity REF=<git revision>"; exit 2; }
	$(GO) run ./internal/identity/main.go -ref "$(REF)"

## bench-smoke: one iteration of the small benchmarks, so they do not rot (CI)
bench-smoke:
	$(GO) test -run '^$$' -bench 'Minimal|Floor|Build/^routes=10$$' -benchtime 1x -count 1 ./bench/
	$(GO) test -run '^$$' -bench 'Compile/^routes=10$$/' -benchtime 1x -count 1 ./compiler/
	$(GO) test -run '^$$' -bench 'CompileSchema|ResolveWhole/^routes=10$$|Generate/^routes=10$$' -benchtime 1x -count 1 ./compiler/module/ ./compiler/unify/ ./compiler/generate/

IMAGE ?= egmc-cmp:dev

## image: the Argo CD plugin sidecar image (deploy/argocd/Dockerfile: static egmc, non-root, distroless) as $(IMAGE)
.PHONY: image
image:
	docker build -f deploy/argocd/Dockerfile -t $(IMAGE) .

.PHONY: conformance

## conformance: check every golden stream with the real egctl and istioctl (builds them once into $EGMC_TOOLS_CACHE), then apply every example to a real kube-apiserver (apiserver)
conformance:
	@cache=$$(GO=$(GO) tools/conformance/build-tools.sh) && \
	cd tools/conformance && \
	EGCTL=$$cache/egctl ISTIOCTL=$$cache/istioctl $(GO) test -count=1 ./...
	$(MAKE) apiserver

.PHONY: apiserver

## apiserver: run every example's runbook (its manifests by server-side apply, in order) on a real kube-apiserver with the pinned CRDs, in process (tools/apiserver; cold: ~12 min and ~3 GB of build cache)
apiserver:
	cd tools/apiserver && $(GO) test -count=1 ./...

.PHONY: precommit-test

## precommit-test: run the pre-commit hook (.pre-commit-hooks.yaml) with the real pre-commit, installing Debian's package when it is missing (EGMC_PRECOMMIT_COLD=1: without Go caches)
precommit-test:
	@cd tools/precommit && $(GO) vet ./... && $(GO) test -count=1 -v -timeout 30m ./...

.PHONY: argocd-test

## argocd-test: run the Argo CD plugin (deploy/argocd) under the real argocd-cmp-server (built once into $EGMC_TOOLS_CACHE)
argocd-test:
	@bin=$$(GO=$(GO) tools/argocd/build-cmp-server.sh) && \
	cd tools/argocd && \
	ARGOCD_CMP_SERVER=$$bin $(GO) test -count=1 ./...
