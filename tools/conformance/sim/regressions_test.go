package sim

import (
	"path/filepath"
	"strings"
	"testing"

	"egmc.dev/egmc/tools/conformance"
)

// regression is a defect the simulator found in egmc's output (issue 10):
// the stream as egmc generated it before the fix (testdata/before), the
// request that went wrong, and how it went wrong. The examples' tables
// hold the same requests on today's streams, where they go right.
type regression struct {
	name   string
	stream string // testdata/before/<stream>
	opts   Options
	req    string
	// failed says how the request went wrong.
	failed func(Result) (ok bool, why string)
}

var regressions = []regression{{
	// Defect 0: the VirtualService for www.example.com was only in the
	// port-80 route configuration, so the request to httpbin:8000 left
	// the gateway's sidecar through the passthrough cluster, in plain
	// text, and the STRICT backend refused it.
	name:   "sidecar passthrough",
	stream: "sidecar-passthrough.yaml",
	req:    "GET http://www.example.com/httpbin/get",
	failed: func(r Result) (bool, string) {
		hop := findHop(r, "gateway-sidecar")
		return r.Backend == "" && hop != nil && hop.Cluster == "PassthroughCluster" && hop.TLS == TLSNone &&
				strings.Contains(r.Error, "refused plain text under STRICT"),
			"the gateway's sidecar sends it through PassthroughCluster in plain text and the backend refuses it"
	},
}, {
	// Defect 2: ownership.timeouts mesh with timeout 60s; the gateway's
	// route kept Envoy's default 15 s and cut the request first.
	name:   "gateway timeout before the mesh's",
	stream: "gateway-timeout.yaml",
	req:    "GET http://reports.example.com/quarterly",
	failed: func(r Result) (bool, string) {
		return effectiveTimeout(r.Hops) == "15s" && findHop(r, "gateway-sidecar").Timeout == "60s",
			"the gateway cuts it at 15s although the mesh, which owns timeouts, allows 60s"
	},
}, {
	// Defect 5: mesh.state migrate applied STRICT with the install, so
	// the old ingress (a client outside the mesh) lost the backends.
	name:   "STRICT during a migration",
	stream: "strict-during-migration.yaml",
	opts:   Options{ControllerNamespace: "legacy-ingress"},
	req:    "GET http://www.example.com/",
	failed: func(r Result) (bool, string) {
		return r.Backend == "" && strings.Contains(r.Error, "refused plain text under STRICT"),
			"a client outside the mesh (the old ingress) is refused while the migration is under way"
	},
}, {
	// Defect 6: Envoy Gateway as the ambient waypoint. Istio does not
	// attach the backends to it (no HBONE listener): ztunnel goes
	// straight to the pod and the waypoint never sees the request.
	name:   "EG as ambient waypoint",
	stream: "eg-waypoint.yaml",
	opts:   Options{Cluster: []conformance.Object{videoService()}},
	req:    "GET http://video.example.com/watch",
	failed: func(r Result) (bool, string) {
		return findHop(r, "waypoint") == nil && strings.Contains(findHop(r, "ztunnel").Note, "AttachmentDenied"),
			"the request bypasses the waypoint: Istio denies attaching the namespace to it"
	},
}}

// TestRegressions simulates each defect's request on the stream egmc
// generated before the fix and requires the failure the defect caused, so
// that the simulator keeps seeing what it found.
func TestRegressions(t *testing.T) {
	egctl := egctlOrFail(t)
	for _, rg := range regressions {
		t.Run(rg.name, func(t *testing.T) {
			objs, err := conformance.ReadStreamFile(filepath.Join("testdata", "before", rg.stream))
			if err != nil {
				t.Fatal(err)
			}
			sim := newSimulator(t, egctl, conformance.Stream{Name: rg.stream, Objects: objs}, rg.opts)
			req, err := ParseRequest(rg.req)
			if err != nil {
				t.Fatal(err)
			}
			got := sim.Simulate(req)
			if ok, why := rg.failed(got); !ok {
				t.Errorf("%s: want the defect (%s), got backend %q error %q hops %+v", rg.req, why, got.Backend, got.Error, got.Hops)
			}
		})
	}
}

// findHop returns the first hop of a kind (see hopKind), or nil.
func findHop(r Result, kind string) *Hop {
	for i := range r.Hops {
		if hopKind(r.Hops[i].Proxy) == kind {
			return &r.Hops[i]
		}
	}
	return nil
}

// videoService is the backend of the waypoint example: Service port 8080
// to container port 9090.
func videoService() conformance.Object {
	return conformance.Object{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "video", "namespace": "media"},
		"spec": map[string]any{
			"clusterIP": "10.97.0.12",
			"selector":  map[string]any{"app": "video"},
			"ports":     []any{map[string]any{"name": "http-8080", "port": 8080, "targetPort": 9090, "protocol": "TCP"}},
		},
	}
}
