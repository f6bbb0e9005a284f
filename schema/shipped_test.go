package schema

import "testing"

func TestShippedLoads(t *testing.T) {
	reg, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	s, ok := reg.Latest("listing")
	if !ok {
		t.Fatal("no listing schema")
	}
	f, ok := s.Field("address")
	if !ok {
		t.Fatal("listing has no address field")
	}
	if !f.Type.Nullable() || f.Type.Branches[0].Kind != Null {
		t.Errorf("address is %v, want a union starting with null", f.Type)
	}
}
