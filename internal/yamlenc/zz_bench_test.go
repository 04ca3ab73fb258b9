package yamlenc

import (
	"encoding/json"
	"testing"
)

func BenchmarkZZJSONValid(b *testing.B) {
	_, array := benchmarkInput()
	b.SetBytes(int64(len(array)))
	for b.Loop() {
		if !json.Valid(array) { b.Fatal() }
	}
}
