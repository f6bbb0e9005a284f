package splitter

import (
	"testing"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/envelope"
)

// A branch's where reads like a rollup's: every rule must pass, not_match
// inverts, and a missing or null field is "".
func TestBranchWhere(t *testing.T) {
	fields := []envelope.Field{{Name: "Event Type", Value: "payment.succeeded"}, {Name: "amount", Value: "12", Kind: envelope.Raw}, {Name: "note", Kind: envelope.Null}}
	for _, tt := range []struct {
		name  string
		where []config.WhereRule
		want  bool
	}{
		{"no rules", nil, true},
		{"match, name compared as schema fields", []config.WhereRule{{Field: "event_type", Match: `^payment\.`}}, true},
		{"no match", []config.WhereRule{{Field: "event_type", Match: `^refund`}}, false},
		{"not_match", []config.WhereRule{{Field: "event_type", NotMatch: `^payment\.`}}, false},
		{"every rule", []config.WhereRule{{Field: "event_type", Match: `^payment`}, {Field: "amount", Match: `^[0-9]+$`}}, true},
		{"one rule fails", []config.WhereRule{{Field: "event_type", Match: `^payment`}, {Field: "amount", Match: `^0$`}}, false},
		{"missing is empty", []config.WhereRule{{Field: "currency", Match: `^$`}}, true},
		{"missing fails a match", []config.WhereRule{{Field: "currency", Match: `.`}}, false},
		{"missing passes not_match", []config.WhereRule{{Field: "currency", NotMatch: `^EUR$`}}, true},
		{"null is empty", []config.WhereRule{{Field: "note", NotMatch: `.`}}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			brs, err := compileBranches("routes[0]", config.Route{To: []config.Branch{{Stream: "s", Schema: "x", Where: tt.where}}})
			if err != nil {
				t.Fatal(err)
			}
			var scratch []byte
			if got := brs[0].admits(fields, &scratch); got != tt.want {
				t.Errorf("admits = %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := compileBranches("routes[0]", config.Route{To: []config.Branch{{Stream: "s", Where: []config.WhereRule{{Field: "f", Match: "("}}}}}); err == nil {
		t.Error("a bad expression: want an error")
	}
}
