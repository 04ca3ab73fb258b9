package generate

import (
	"encoding/json"
	"testing"
)

// TestSplitRoutes: the intent without its routes keeps every other byte
// (its field order is part of the cache key), and each route is its own
// JSON text.
func TestSplitRoutes(t *testing.T) {
	in := `{"kind":"Intent","spec":{"mesh":{"provider":"none"},"routes":[{"name":"a"}, {"name":"b","x":[1]}],"gateway":{}},"z":1}`
	rest, routes, err := splitRoutes([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"kind":"Intent","spec":{"mesh":{"provider":"none"},"routes":[],"gateway":{}},"z":1}`; string(rest) != want {
		t.Errorf("rest = %s, want %s", rest, want)
	}
	if len(routes) != 2 || string(routes[0]) != `{"name":"a"}` || string(routes[1]) != `{"name":"b","x":[1]}` {
		t.Errorf("routes = %s", routes)
	}
	for _, bad := range []string{`[]`, `{"spec":{}}`, `{"spec":{"routes":{}}}`, `{"kind":1}`, `{`} {
		if _, _, err := splitRoutes([]byte(bad)); err == nil {
			t.Errorf("%s: split without an error", bad)
		}
	}
	if !json.Valid(rest) {
		t.Error("rest is not JSON")
	}
}
