package schema

import "testing"

func TestShippedSchemasLoad(t *testing.T) {
	r, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	s, ok := r.Latest("listing")
	if !ok {
		t.Fatal("no listing schema")
	}
	f, _ := s.Field("address")
	if !f.Type.Nullable() || f.Type.Branches[0].Kind != Null {
		t.Errorf("address is %s, want a union with null", f.Type)
	}
	if err := r.CheckVersions(); err != nil {
		t.Errorf("shipped versions are incompatible: %v", err)
	}
}

func TestParseReportsWhatHambaPanicsOn(t *testing.T) {
	// Found by fuzzing: an empty union with a default panics inside
	// hamba/avro's default validation.
	src := `{"type":"record","name":"a","fields":[{"name":"x","type":[],"default":null}]}`
	s, err := Parse("a", 1, []byte(src))
	if err == nil || s != nil {
		t.Fatalf("Parse = %v, %v; want an error", s, err)
	}
}
