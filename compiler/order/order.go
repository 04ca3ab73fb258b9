// Package order is the third stage of the compiler: it collects the
// objects of a profile's output and puts them in apply order.
//
// The rule, like kustomize's, is one documented and stable order: first
// the phase (namespaces, mesh, gateway, routes, policies, egress: the
// waves of the intent spec), then the kind's rank in the profiles'
// #KindRank table (kinds missing from it come last), then the string
// group|kind|namespace|name. Both tables live in CUE
// (profiles/common/out.cue); this package only applies them.
package order

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"cuelang.org/go/cue"
)

// Phase is one apply phase.
type Phase struct {
	Name string `json:"name"`
	Wave int    `json:"wave"`
	// File is the phase's file name in an output directory.
	File string `json:"file"`
}

// Object is one generated Kubernetes object.
type Object struct {
	Phase     Phase
	Group     string
	Version   string
	Kind      string
	Namespace string
	Name      string
	// JSON is the object encoded as JSON.
	JSON []byte
	// Checked: the object was validated against the pinned schema of its
	// kind where it was generated.
	Checked bool
}

// ID is the object's group|kind|namespace|name, the last sort key.
func (o *Object) ID() string {
	return o.Group + "|" + o.Kind + "|" + o.Namespace + "|" + o.Name
}

// APIVersion is group/version, or version for the core group.
func (o *Object) APIVersion() string {
	if o.Group == "" {
		return o.Version
	}
	return o.Group + "/" + o.Version
}

// String names the object for messages: kind namespace/name.
func (o *Object) String() string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

// Objects reads the phases, the kind ranks and the objects of a profile's
// output, adds the objects of extra (JSON documents by phase name, which
// the compiler evaluated route by route; Checked says whether they were
// validated there), and returns the phases and all the objects in apply
// order.
func Objects(out cue.Value, extra map[string][]json.RawMessage, extraChecked bool) ([]Phase, []*Object, error) {
	var phases []Phase
	if err := out.LookupPath(cue.ParsePath("phases")).Decode(&phases); err != nil {
		return nil, nil, fmt.Errorf("reading phases: %w", err)
	}
	var kinds []string
	if err := out.LookupPath(cue.ParsePath("kindRank")).Decode(&kinds); err != nil {
		return nil, nil, fmt.Errorf("reading kindRank: %w", err)
	}
	rank := make(map[string]int, len(kinds))
	for i, k := range kinds {
		rank[k] = i
	}
	var objs []*Object
	for _, p := range phases {
		list, err := out.LookupPath(cue.MakePath(cue.Str("objects"), cue.Str(p.Name))).List()
		if err != nil {
			return nil, nil, fmt.Errorf("reading the objects of phase %s: %w", p.Name, err)
		}
		var inPhase []*Object
		for list.Next() {
			j, err := list.Value().MarshalJSON()
			if err != nil {
				return nil, nil, fmt.Errorf("phase %s: %w", p.Name, err)
			}
			o, err := FromJSON(p, j)
			if err != nil {
				return nil, nil, fmt.Errorf("phase %s: %w", p.Name, err)
			}
			inPhase = append(inPhase, o)
		}
		for _, j := range extra[p.Name] {
			o, err := FromJSON(p, j)
			if err != nil {
				return nil, nil, fmt.Errorf("phase %s: %w", p.Name, err)
			}
			o.Checked = extraChecked
			inPhase = append(inPhase, o)
		}
		sortPhase(inPhase, rank)
		objs = append(objs, inPhase...)
	}
	if err := unique(objs); err != nil {
		return nil, nil, err
	}
	return phases, objs, nil
}

// FromJSON reads the identity of one object encoded as JSON.
func FromJSON(p Phase, j []byte) (*Object, error) {
	var id struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(j, &id); err != nil {
		return nil, err
	}
	group, version, found := strings.Cut(id.APIVersion, "/")
	if !found {
		group, version = "", id.APIVersion
	}
	return &Object{
		Phase: p, Group: group, Version: version, Kind: id.Kind,
		Namespace: id.Metadata.Namespace, Name: id.Metadata.Name, JSON: j,
	}, nil
}

// sortPhase sorts the objects of one phase by kind rank, then ID.
func sortPhase(objs []*Object, rank map[string]int) {
	r := func(o *Object) int {
		if i, ok := rank[o.Kind]; ok {
			return i
		}
		return len(rank)
	}
	sort.SliceStable(objs, func(i, j int) bool {
		if ri, rj := r(objs[i]), r(objs[j]); ri != rj {
			return ri < rj
		}
		return objs[i].ID() < objs[j].ID()
	})
}

// unique refuses two objects with one identity: one would overwrite the
// other when applied.
func unique(objs []*Object) error {
	seen := make(map[string]*Object, len(objs))
	for _, o := range objs {
		if prev, ok := seen[o.ID()]; ok {
			return fmt.Errorf("two objects named %s (phases %s and %s)", o, prev.Phase.Name, o.Phase.Name)
		}
		seen[o.ID()] = o
	}
	return nil
}
