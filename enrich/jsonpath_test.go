package enrich

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestJSONPath(t *testing.T) {
	var doc any
	if err := json.Unmarshal([]byte(`{"results":[{"geometry":{"location":{"lat":52.5,"lng":13.4}},"types":["a","b"],"n":null}],"ok":true,"1":"one"}`), &doc); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want any
		ok   bool
	}{
		{"results.0.geometry.location.lat", 52.5, true},
		{"results.0.geometry.location", map[string]any{"lat": 52.5, "lng": 13.4}, true},
		{"results.0.types", []any{"a", "b"}, true},
		{"results.0.types.1", "b", true},
		{"results.0.n", nil, true},
		{"ok", true, true},
		{"1", "one", true},
		{"results.1.geometry", nil, false},
		{"results.-1", nil, false},
		{"results.x", nil, false},
		{"ok.deeper", nil, false},
		{"nope", nil, false},
	}
	for _, tt := range tests {
		got, ok := parsePath(tt.path).get(doc)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s = %#v, %v; want %#v, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzJSONPath(f *testing.F) {
	f.Add(`{"a":[{"b":1}]}`, "a.0.b")
	f.Add(`[1,2,3]`, "2")
	f.Add(`"s"`, "x")
	f.Fuzz(func(t *testing.T, doc, path string) {
		var v any
		if json.Unmarshal([]byte(doc), &v) != nil {
			return
		}
		got, ok := parsePath(path).get(v)
		if !ok && got != nil {
			t.Fatalf("missing path %q returned %#v", path, got)
		}
	})
}
