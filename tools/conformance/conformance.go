package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Tools are the upstream binaries the checks run.
type Tools struct {
	Egctl    Egctl
	Istioctl Istioctl
}

// Report is the outcome of checking one stream.
type Report struct {
	// Failures are the reasons a tool does not accept the stream.
	Failures []Failure
	// Notes are informational findings (istioctl Info messages, and
	// egctl's refusals that come from its own limits: knownLimitations).
	Notes []Failure
}

// CacheDir returns the directory build-tools.sh builds the tools into:
// $EGMC_TOOLS_CACHE, or ~/.cache/egmc-tools.
func CacheDir() string {
	if dir := os.Getenv("EGMC_TOOLS_CACHE"); dir != "" {
		return dir
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".cache", "egmc-tools")
	}
	return filepath.Join(home, ".cache", "egmc-tools")
}

// LocateTools finds egctl and istioctl from $EGCTL and $ISTIOCTL, or in
// CacheDir, and fails when one is missing.
func LocateTools() (Tools, error) {
	egctl, err := locate("EGCTL", "egctl")
	if err != nil {
		return Tools{}, err
	}
	istioctl, err := locate("ISTIOCTL", "istioctl")
	if err != nil {
		return Tools{}, err
	}
	return Tools{Egctl: Egctl{Path: egctl}, Istioctl: Istioctl{Path: istioctl}}, nil
}

// LocateEgctl finds egctl from $EGCTL, or in CacheDir.
func LocateEgctl() (Egctl, error) {
	path, err := locate("EGCTL", "egctl")
	return Egctl{Path: path}, err
}

// locate returns $env, or name in CacheDir, when it is an executable file.
func locate(env, name string) (string, error) {
	path := os.Getenv(env)
	if path == "" {
		path = filepath.Join(CacheDir(), name)
	}
	info, err := os.Stat(path)
	if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s not found at %s (set $%s): run tools/conformance/build-tools.sh, or make conformance, to build it", name, path, env)
	}
	return path, nil
}

// Check runs egctl on every stream and istioctl analyze on those with
// Istio objects.
func (t Tools) Check(ctx context.Context, s Stream) (Report, error) {
	fixtures, err := Fixtures(s.Objects)
	if err != nil {
		return Report{}, fmt.Errorf("%s: fixtures: %w", s.Name, err)
	}
	var r Report
	failures, err := t.Egctl.Check(ctx, s.Objects, fixtures)
	if err != nil {
		return Report{}, fmt.Errorf("%s: egctl: %w", s.Name, err)
	}
	r.Failures, r.Notes = knownLimitations(failures)
	r.Failures = append(r.Failures, sdsConfigFailures(s)...)
	if HasIstio(s.Objects) {
		failures, notes, err := t.Istioctl.Check(ctx, s, fixtures)
		if err != nil {
			return Report{}, fmt.Errorf("%s: istioctl: %w", s.Name, err)
		}
		r.Failures = append(r.Failures, failures...)
		r.Notes = append(r.Notes, notes...)
	}
	return r, nil
}
