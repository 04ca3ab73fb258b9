package yamlenc

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"sigs.k8s.io/yaml"
)

// The benchmarks convert 2000 Kubernetes-like objects (about 670 KB of
// compact JSON; see kubernetesObject) both one object at a time into a shared stream buffer, the
// way egmc uses the package, and as a single JSON array. The same input
// goes through sigs.k8s.io/yaml.JSONToYAML for comparison.

func BenchmarkAppend(b *testing.B) {
	objs, array := benchmarkInput()
	b.Run("objects", func(b *testing.B) {
		var dst []byte
		benchmarkObjects(b, objs, func(obj []byte) (err error) {
			dst, err = Append(dst, obj)
			return err
		}, func() { dst = dst[:0] })
	})
	b.Run("array", func(b *testing.B) {
		var dst []byte
		benchmarkArray(b, array, func() (err error) {
			dst, err = Append(dst[:0], array)
			return err
		})
	})
}

func BenchmarkJSONToYAML(b *testing.B) {
	objs, array := benchmarkInput()
	b.Run("objects", func(b *testing.B) {
		var dst []byte
		benchmarkObjects(b, objs, func(obj []byte) error {
			out, err := yaml.JSONToYAML(obj)
			dst = append(dst, out...)
			return err
		}, func() { dst = dst[:0] })
	})
	b.Run("array", func(b *testing.B) {
		benchmarkArray(b, array, func() error {
			_, err := yaml.JSONToYAML(array)
			return err
		})
	})
}

// benchmarkObjects runs convert on every object per iteration, after
// calling reset, and reports throughput and the time per object.
func benchmarkObjects(b *testing.B, objs [][]byte, convert func([]byte) error, reset func()) {
	size := 0
	for _, obj := range objs {
		size += len(obj)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		reset()
		for _, obj := range objs {
			if err := convert(obj); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(objs)), "ns/object")
}

// benchmarkArray runs convert once per iteration on an input of the given
// array.
func benchmarkArray(b *testing.B, array []byte, convert func() error) {
	b.SetBytes(int64(len(array)))
	b.ReportAllocs()
	for b.Loop() {
		if err := convert(); err != nil {
			b.Fatal(err)
		}
	}
}

// benchmarkInput returns the benchmark objects as separate compact JSON
// documents and as one JSON array.
var benchmarkInput = sync.OnceValues(func() ([][]byte, []byte) {
	var objs [][]byte
	array := []byte{'['}
	for i := range 2000 {
		obj, err := json.Marshal(kubernetesObject(i))
		if err != nil {
			panic(err)
		}
		if i > 0 {
			array = append(array, ',')
		}
		array = append(array, obj...)
		objs = append(objs, obj)
	}
	return objs, append(array, ']')
})

// kv is one member of an ordered JSON object.
type kv struct {
	k string
	v any
}

// omap is a JSON object that marshals its members in order.
type omap []kv

func (m omap) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, e := range m {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(e.k)
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

// kubernetesObject returns the i-th of a mix of Deployments, Services,
// HTTPRoutes, ConfigMaps and ServiceAccounts, in the key order CUE
// produces.
func kubernetesObject(i int) omap {
	name := fmt.Sprintf("app-%d", i/5)
	switch i % 5 {
	case 0:
		return deployment(name, i)
	case 1:
		return service(name, i)
	case 2:
		return httpRoute(name, i)
	case 3:
		return configMap(name, i)
	}
	return omap{
		{"apiVersion", "v1"},
		{"kind", "ServiceAccount"},
		{"metadata", metadata(name, i)},
	}
}

func metadata(name string, i int) omap {
	return omap{
		{"name", name},
		{"namespace", fmt.Sprintf("team-%d", i%7)},
		{"labels", omap{
			{"app.kubernetes.io/name", name},
			{"tier", []string{"frontend", "backend", "cache"}[i%3]},
		}},
	}
}

func deployment(name string, i int) omap {
	container := omap{
		{"name", name},
		{"image", fmt.Sprintf("registry.example.com/%s:1.%d.0", name, i%10)},
		{"env", []omap{{{"name", "ENABLED"}, {"value", "true"}}}},
		{"ports", []omap{{{"name", "http"}, {"containerPort", 8080}, {"protocol", "TCP"}}}},
		{"resources", omap{
			{"requests", omap{{"cpu", "100m"}, {"memory", "128Mi"}}},
		}},
	}
	return omap{
		{"apiVersion", "apps/v1"},
		{"kind", "Deployment"},
		{"metadata", metadata(name, i)},
		{"spec", omap{
			{"replicas", 1 + i%3},
			{"selector", omap{{"matchLabels", omap{{"app.kubernetes.io/name", name}}}}},
			{"template", omap{
				{"metadata", omap{{"labels", omap{{"app.kubernetes.io/name", name}}}}},
				{"spec", omap{{"containers", []omap{container}}}},
			}},
		}},
	}
}

func service(name string, i int) omap {
	return omap{
		{"apiVersion", "v1"},
		{"kind", "Service"},
		{"metadata", metadata(name, i)},
		{"spec", omap{
			{"type", "ClusterIP"},
			{"selector", omap{{"app.kubernetes.io/name", name}}},
			{"ports", []omap{{{"name", "http"}, {"port", 80}, {"targetPort", "http"}}}},
		}},
	}
}

func httpRoute(name string, i int) omap {
	return omap{
		{"apiVersion", "gateway.networking.k8s.io/v1"},
		{"kind", "HTTPRoute"},
		{"metadata", metadata(name, i)},
		{"spec", omap{
			{"parentRefs", []omap{{{"name", "gateway"}, {"namespace", "infra"}}}},
			{"hostnames", []string{name + ".example.com", "*.example.com"}},
			{"rules", []omap{{
				{"matches", []omap{{{"path", omap{{"type", "PathPrefix"}, {"value", "/"}}}}}},
				{"backendRefs", []omap{{{"name", name}, {"port", 80}}}},
			}}},
		}},
	}
}

func configMap(name string, i int) omap {
	return omap{
		{"apiVersion", "v1"},
		{"kind", "ConfigMap"},
		{"metadata", metadata(name, i)},
		{"data", omap{
			{"config.yaml", fmt.Sprintf("listen: :8080\nreplica: %d\nfeatures:\n  - a\n  - b\n", i)},
			{"motd", "Hello from egmc!"},
			{"empty", ""},
		}},
	}
}
