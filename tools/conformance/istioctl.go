package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Istioctl checks streams with `istioctl analyze` in file mode.
type Istioctl struct {
	// Path is the istioctl binary.
	Path string
}

// analyzerMessage is one message of `istioctl analyze -o json`.
type analyzerMessage struct {
	Code    string `json:"code"`
	Level   string `json:"level"`
	Origin  string `json:"origin"`
	Message string `json:"message"`
}

// HasIstio tells whether the stream holds Istio objects (*.istio.io).
func HasIstio(objs []Object) bool {
	for _, o := range objs {
		if strings.HasSuffix(o.Group(), istioGroupSuffix) {
			return true
		}
	}
	return false
}

// Check runs `istioctl analyze --use-kube=false -A --failure-threshold
// Warning` on the whole stream plus the Service fixtures, with the stream's
// mesh config when it has one. Messages at Warning or Error level are
// failures; Info messages are returned apart, as notes.
func (i Istioctl) Check(ctx context.Context, s Stream, fixtures []Object) (failures, notes []Failure, err error) {
	input := append([]Object{}, s.Objects...)
	for _, f := range fixtures {
		if f.APIVersion() == "v1" && f.Kind() == "Service" {
			input = append(input, f)
		}
	}
	file, err := writeTemp("istioctl-input-*.yaml", input)
	if err != nil {
		return nil, nil, err
	}
	defer os.Remove(file)
	args := []string{"analyze", "--use-kube=false", "-A", "--failure-threshold", "Warning", "-o", "json"}
	if s.MeshConfig != nil {
		meshFile, err := os.CreateTemp("", "istioctl-mesh-*.yaml")
		if err != nil {
			return nil, nil, err
		}
		defer os.Remove(meshFile.Name())
		if _, err := meshFile.Write(s.MeshConfig); err != nil {
			meshFile.Close()
			return nil, nil, err
		}
		if err := meshFile.Close(); err != nil {
			return nil, nil, err
		}
		args = append(args, "--meshConfigFile", meshFile.Name())
	}
	args = append(args, file)
	return i.run(ctx, args)
}

// run executes istioctl analyze and sorts its messages into failures and
// notes. A non-zero exit without a failing message is a failure too.
func (i Istioctl) run(ctx context.Context, args []string) (failures, notes []Failure, err error) {
	cmd := exec.CommandContext(ctx, i.Path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if runErr != nil {
		if _, isExit := runErr.(*exec.ExitError); !isExit {
			return nil, nil, fmt.Errorf("running %s: %w", i.Path, runErr)
		}
	}
	var msgs []analyzerMessage
	if out := bytes.TrimSpace(stdout.Bytes()); len(out) > 0 {
		if err := json.Unmarshal(out, &msgs); err != nil {
			return nil, nil, fmt.Errorf("decoding istioctl analyze output %q: %w", out, err)
		}
	}
	for _, m := range msgs {
		f := Failure{Tool: "istioctl", Object: orDefault(m.Origin, "stream"),
			Condition: fmt.Sprintf("%s (%s)", m.Code, m.Level), Message: m.Message}
		if m.Level == "Info" {
			notes = append(notes, f)
		} else {
			failures = append(failures, f)
		}
	}
	if runErr != nil && len(failures) == 0 {
		failures = append(failures, Failure{Tool: "istioctl", Object: "stream",
			Condition: runErr.Error(), Message: strings.TrimSpace(stderr.String())})
	}
	return failures, notes, nil
}
