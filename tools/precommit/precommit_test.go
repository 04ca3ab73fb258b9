package precommit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// hookID is the hook under test, defined in .pre-commit-hooks.yaml.
const hookID = "egmc-lint"

// The files of the work repository the hooks run in: each path in the
// repository and the testdata file it holds.
var workFiles = []struct{ path, testdata string }{
	{goodIntent, "good.yaml"},
	{badIntent, "bad.yaml"},
	{warnIntent, "warn.cue"},
	// Names the hook's files pattern must not match.
	{"k8s/deploy.yaml", "garbage.yaml"},
	{"docs/intents.yaml", "garbage.yaml"},
	{"myintent.yaml", "garbage.yaml"},
}

const (
	goodIntent = "good/intent.yaml"
	badIntent  = "bad/shop-intent.yaml"
	warnIntent = "warn/media.intent.cue"

	// badFinding and warnFinding start egmc lint's findings for badIntent
	// and warnIntent: the GNU-style position and the rule.
	badFinding  = badIntent + ":12:5: EGMC006: "
	warnFinding = warnIntent + ":10:75: warning: EGMC036: "
)

// config is the .pre-commit-config.yaml of the work repository, as
// docs/pre-commit.md documents it, with the hook repository's directory and
// commit for %s and %s.
const config = `repos:
  - repo: %s
    rev: %s
    hooks:
      - id: egmc-lint
        args: [--strict]
`

// commandTimeout bounds each command; a cold install downloads and compiles
// all of egmc's dependencies.
const commandTimeout = 20 * time.Minute

// TestHook runs egmc's hook with the real pre-commit.
func TestHook(t *testing.T) {
	pc := preCommit(t)
	root := repoRoot(t)
	e := newEnv(t, pc)
	hook, rev := snapshot(t, e, root)
	work := workRepo(t, e, fmt.Sprintf(config, hook, rev))

	t.Run("validate-manifest", func(t *testing.T) {
		e.preCommit(t, work, 0, "validate-manifest", filepath.Join(hook, ".pre-commit-hooks.yaml"))
	})

	t.Run("try-repo/good", func(t *testing.T) {
		out := e.preCommit(t, work, 0, "try-repo", hook, hookID, "--files", goodIntent)
		mustContain(t, out, "Passed")
	})

	t.Run("try-repo/bad", func(t *testing.T) {
		out := e.preCommit(t, work, 1, "try-repo", hook, hookID, "--files", badIntent)
		mustContain(t, out, "- hook id: "+hookID, badFinding)
	})

	// The documented configuration, installed as a git hook. The first
	// commit installs the hook's environment from within git commit -a,
	// which sets GIT_INDEX_FILE: the case where go install needs
	// -buildvcs=false with some pre-commit releases (see newEnv).
	t.Run("config", func(t *testing.T) {
		e.preCommit(t, work, 0, "install")

		appendLine(t, filepath.Join(work, goodIntent), "# reviewed")
		out := e.run(t, work, 0, "git", "commit", "-q", "-a", "-m", "Touch the good intent")
		mustContain(t, out, "Passed")
		if bins := hookBinaries(t, e); !slices.Equal(bins, []string{"egmc"}) {
			t.Errorf("go install ./... in the hook repository installed %q, want only egmc", bins)
		}

		appendLine(t, filepath.Join(work, warnIntent), "// reviewed")
		out = e.run(t, work, 1, "git", "commit", "-q", "-a", "-m", "Touch the intent with a warning")
		mustContain(t, out, warnFinding) // args: [--strict] makes warnings fail

		out = e.preCommit(t, work, 1, "run", "--all-files")
		mustContain(t, out, badFinding, warnFinding)
		for _, f := range workFiles {
			if f.testdata == "garbage.yaml" && strings.Contains(out, f.path) {
				t.Errorf("the hook's files pattern matched %s:\n%s", f.path, out)
			}
		}
	})
}

// preCommit returns the pre-commit to run: the one on PATH, or else
// Debian's, installed with apt-get. When the package cannot be installed
// it skips the test on a developer's machine and fails it in CI (CI set),
// where a skip would pass the hook untested.
func preCommit(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("pre-commit"); err == nil {
		if v, err := exec.Command(p, "--version").Output(); err == nil {
			t.Logf("using %s (%s)", p, bytes.TrimSpace(v))
			return p
		}
	}
	start := time.Now()
	if err := aptInstall(t); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pre-commit is missing and Debian's pre-commit package cannot be installed: %v", err)
		}
		t.Skipf("pre-commit is missing and Debian's pre-commit package cannot be installed: %v", err)
	}
	const p = "/usr/bin/pre-commit"
	v, err := exec.Command(p, "--version").Output()
	if err != nil {
		t.Fatalf("apt-get installed pre-commit, but %s --version fails: %v", p, err)
	}
	t.Logf("installed Debian's pre-commit package in %v: %s (%s)", time.Since(start).Round(time.Second), p, bytes.TrimSpace(v))
	return p
}

// aptInstall runs apt-get install -y pre-commit, after apt-get update when
// the first attempt fails (an empty or stale package index).
func aptInstall(t *testing.T) error {
	t.Helper()
	if os.Geteuid() != 0 {
		return errors.New("apt-get needs root")
	}
	apt, err := exec.LookPath("apt-get")
	if err != nil {
		return fmt.Errorf("no apt-get: %v", err)
	}
	aptGet := func(args ...string) error {
		// Wait for a concurrent apt-get rather than fail on its lock.
		args = append([]string{"-o", "DPkg::Lock::Timeout=300"}, args...)
		cmd := exec.Command(apt, args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %s: %v\n%s", strings.Join(args, " "), err, lastLines(out, 10))
		}
		return nil
	}
	t.Log("pre-commit is missing: apt-get install -y pre-commit")
	err = aptGet("install", "-y", "pre-commit")
	if err == nil {
		return nil
	}
	t.Logf("%v\nrunning apt-get update, then trying again", err)
	if err := aptGet("update"); err != nil {
		return err
	}
	return aptGet("install", "-y", "pre-commit")
}

// repoRoot returns the root of the egmc repository holding this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".pre-commit-hooks.yaml")); err != nil {
		t.Fatalf("no hook manifest at the repository root: %v", err)
	}
	return root
}

// env runs git and pre-commit in the test's repositories.
type env struct {
	preCommitPath string
	vars          []string
	// home is PRE_COMMIT_HOME: pre-commit's store of installed hooks.
	home string
}

// newEnv returns the environment for git and pre-commit: the test's, with
// git's global and system configuration, git's variables and pre-commit's
// (SKIP skips hooks) left out, and its own PRE_COMMIT_HOME.
//
// GOFLAGS gets -buildvcs=false unless it sets -buildvcs already, as
// pre-commit's environment installs should: pre-commit releases that do not
// clear git's variables for go install (pre-commit issue #2722; Debian's
// 3.0.4 is one) fail to install a Go hook from within git commit -a with
// "error obtaining VCS status". The machine's go env file may set it, but
// a GOFLAGS variable (CI sets -mod=readonly) replaces that setting.
func newEnv(t *testing.T, preCommit string) *env {
	t.Helper()
	tmp := tempDir(t)
	gitconfig := filepath.Join(tmp, "gitconfig")
	if err := os.WriteFile(gitconfig, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e := &env{preCommitPath: preCommit, home: filepath.Join(tmp, "pre-commit-home")}

	goflags := goEnv(t, "GOFLAGS")
	if !strings.Contains(goflags, "-buildvcs") {
		goflags = strings.TrimSpace(goflags + " -buildvcs=false")
	}
	cold := os.Getenv("EGMC_PRECOMMIT_COLD") != ""
	var goVars []string
	if cold {
		// pre-commit's isolated GOPATH holds the module cache, and builds
		// start from an empty cache.
		goVars = []string{"GOCACHE=" + filepath.Join(tmp, "gocache")}
	} else {
		goVars = []string{"GOMODCACHE=" + goEnv(t, "GOMODCACHE")}
	}
	t.Logf("GOFLAGS=%q, cold=%v, %s", goflags, cold, strings.Join(goVars, " "))

	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "GIT_"), strings.HasPrefix(k, "PRE_COMMIT"), k == "SKIP",
			k == "GOFLAGS", k == "GOMODCACHE", k == "GOCACHE":
			continue
		}
		e.vars = append(e.vars, kv)
	}
	e.vars = append(e.vars,
		"GIT_CONFIG_GLOBAL="+gitconfig,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=egmc pre-commit test",
		"GIT_AUTHOR_EMAIL=precommit-test@egmc.invalid",
		"GIT_COMMITTER_NAME=egmc pre-commit test",
		"GIT_COMMITTER_EMAIL=precommit-test@egmc.invalid",
		"PRE_COMMIT_HOME="+e.home,
		"GOFLAGS="+goflags,
	)
	e.vars = append(e.vars, goVars...)
	return e
}

// goEnv returns go env NAME in the test's environment.
func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// run runs a command in dir, logs how long it took, and fails the test
// unless it exits with code want. It returns stdout and stderr together.
func (e *env) run(t *testing.T, dir string, want int, name string, args ...string) string {
	t.Helper()
	out, took := e.exec(t, dir, want, name, args...)
	t.Logf("%s %s: %v", filepath.Base(name), strings.Join(args, " "), took)
	return out
}

// exec is run without the log.
func (e *env) exec(t *testing.T, dir string, want int, name string, args ...string) (string, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = e.vars
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start).Round(100 * time.Millisecond)
	line := filepath.Base(name) + " " + strings.Join(args, " ")
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	// -1 when killed at the timeout.
	if code := cmd.ProcessState.ExitCode(); code != want {
		t.Fatalf("%s: exit code %d, want %d (%v)\n%s", line, code, want, took, out)
	}
	return string(out), took
}

// preCommit runs pre-commit with args in dir; see run.
func (e *env) preCommit(t *testing.T, dir string, want int, args ...string) string {
	t.Helper()
	return e.run(t, dir, want, e.preCommitPath, args...)
}

// git runs git with args in dir, which must succeed, and returns its
// output.
func (e *env) git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, _ := e.exec(t, dir, 0, "git", args...)
	return out
}

// snapshot copies what a commit of root's working tree would hold, tracked
// files that still exist and untracked files that are not ignored, into a
// new repository with one commit, and returns its directory and commit.
//
// pre-commit try-repo commits a dirty tree itself, but only its tracked
// files (git add -u): a new file, such as a Go file that a modified one
// uses, or .pre-commit-hooks.yaml before its first commit, would be
// missing. In a clean clone the snapshot is the clone's HEAD.
func snapshot(t *testing.T, e *env, root string) (string, string) {
	t.Helper()
	// Read root with the user's git configuration (safe.directory).
	ls := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	ls.Dir = root
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			ls.Env = append(ls.Env, kv)
		}
	}
	out, err := ls.Output()
	if err != nil {
		t.Fatalf("git ls-files in %s: %v", root, err)
	}
	dir := filepath.Join(tempDir(t), "egmc")
	seen := map[string]bool{}
	n := 0
	for _, name := range strings.Split(string(out), "\x00") {
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		copied, err := copyFile(filepath.Join(root, name), filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if copied {
			n++
		}
	}
	e.git(t, dir, "init", "-q")
	e.git(t, dir, "add", "-A", "-f")
	e.git(t, dir, "commit", "-q", "--no-verify", "-m", "Snapshot of the working tree")
	rev := strings.TrimSpace(e.git(t, dir, "rev-parse", "HEAD"))
	t.Logf("hook repository: %d files of %s at %s", n, root, rev)
	return dir, rev
}

// copyFile copies a regular file or a symbolic link, creating dst's
// directory. It copies nothing, and reports false, for a file that is gone
// (deleted but still tracked) or a directory (a submodule).
func copyFile(src, dst string) (bool, error) {
	fi, err := os.Lstat(src)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && fi.IsDir()) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return false, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(src)
		if err != nil {
			return false, err
		}
		return true, os.Symlink(target, dst)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return false, err
	}
	return true, os.WriteFile(dst, b, fi.Mode().Perm())
}

// workRepo creates the repository the hooks run in: the workFiles and
// config as .pre-commit-config.yaml, committed without hooks.
func workRepo(t *testing.T, e *env, config string) string {
	t.Helper()
	dir := filepath.Join(tempDir(t), "work")
	for _, f := range workFiles {
		if _, err := copyFile(filepath.Join("testdata", f.testdata), filepath.Join(dir, f.path)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ".pre-commit-config.yaml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	e.git(t, dir, "init", "-q")
	e.git(t, dir, "add", "-A")
	e.git(t, dir, "commit", "-q", "--no-verify", "-m", "Intents")
	return dir
}

// hookBinaries lists the commands pre-commit installed for the hook
// repository in its store: what go install ./... installed.
func hookBinaries(t *testing.T, e *env) []string {
	t.Helper()
	bins, err := filepath.Glob(filepath.Join(e.home, "repo*", "golangenv-*", "bin", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range bins {
		bins[i] = filepath.Base(b)
	}
	slices.Sort(bins)
	return bins
}

// appendLine appends a line to a file.
func appendLine(t *testing.T, path, line string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintln(f, line); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// mustContain fails the test unless out contains every one of want.
func mustContain(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// tempDir returns a new temporary directory, removed at the end of the
// test even when it holds read-only files, as a Go module cache does.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "egmc-precommit-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(path, 0o755)
			}
			return nil
		})
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	return dir
}

// lastLines returns the last n lines of out.
func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
