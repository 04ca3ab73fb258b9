// Package precommit tests egmc's pre-commit hook (.pre-commit-hooks.yaml at
// the repository root) with the real pre-commit: the package has no code,
// only the integration test in precommit_test.go.
//
// The test installs Debian's pre-commit package when pre-commit is missing
// (it is skipped only when that fails), copies the working tree into a
// throwaway hook repository, and runs pre-commit in a throwaway repository
// of intents: try-repo on a good and a bad intent, then the configuration
// docs/pre-commit.md documents, through git commit and run --all-files.
//
// It is its own module so that the main module's go test ./... does not run
// it; run it with make precommit-test. By default pre-commit's go install
// shares the module cache of the go command (GOMODCACHE), which CI fills
// with go mod download. EGMC_PRECOMMIT_COLD=1 runs it as on a fresh
// machine instead: pre-commit's own module cache in its isolated GOPATH,
// which downloads every module of egmc once per install, and an empty
// build cache.
package precommit
