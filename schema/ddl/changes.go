package ddl

import (
	"fmt"

	"github.com/sluicehq/sluice/schema"
)

// Change is one field-level difference between two versions of a schema:
// what a reader of compat output, or whoever keeps a destination table in
// step, needs to act on.
type Change struct {
	// Field is the dotted path of the field (provenance.line).
	Field string
	// What is "added", "removed", "renamed" or "changed".
	What string
	// Detail says more: the new type, the default, the old name.
	Detail string
	// Breaking is why data written with the older version cannot be read
	// with the newer one, and what to do; "" when it can.
	Breaking string
}

func (c Change) String() string {
	s := c.Field + ": " + c.What
	if c.Detail != "" {
		s += ", " + c.Detail
	}
	if c.Breaking != "" {
		s += ": BREAKING: " + c.Breaking
	}
	return s
}

// Changes lists the field-level differences from older to newer, in newer's
// field order, with removed fields last.
func Changes(older, newer *schema.Schema) []Change {
	return recordChanges("", older.Fields, newer.Fields)
}

func recordChanges(prefix string, older, newer []schema.Field) []Change {
	byName := map[string]*schema.Field{}
	for i := range older {
		byName[older[i].Name] = &older[i]
	}
	used := map[string]bool{}
	var out []Change
	for i := range newer {
		nf := &newer[i]
		path := prefix + nf.Name
		of, ok := byName[nf.Name]
		if !ok {
			for _, a := range nf.Aliases {
				if of, ok = byName[a]; ok {
					out = append(out, Change{Field: path, What: "renamed", Detail: "from " + a})
					break
				}
			}
		}
		if !ok {
			c := Change{Field: path, What: "added", Detail: nf.Type.String() + " with a default"}
			if !nf.HasDefault {
				c.Detail = nf.Type.String() + " with no default"
				c.Breaking = "records written with the older version have no value for it; give it a default (null, with \"null\" first in a union)"
			}
			out = append(out, c)
			continue
		}
		used[of.Name] = true
		out = append(out, typeChanges(path, of.Type, nf.Type)...)
	}
	for i := range older {
		if !used[older[i].Name] {
			out = append(out, Change{Field: prefix + older[i].Name, What: "removed"})
		}
	}
	return out
}

func typeChanges(path string, older, newer *schema.Type) []Change {
	oi, onull := older.NonNull()
	ni, nnull := newer.NonNull()
	var out []Change
	if onull != nnull {
		if nnull {
			out = append(out, Change{Field: path, What: "changed", Detail: "now nullable"})
		} else {
			out = append(out, Change{Field: path, What: "changed", Detail: "no longer nullable",
				Breaking: "records written with the older version may hold null here; keep \"null\" in the union"})
		}
	}
	switch {
	case oi.Kind == schema.Record && ni.Kind == schema.Record:
		return append(out, recordChanges(path+".", oi.Fields, ni.Fields)...)
	case oi.Kind == schema.Enum && ni.Kind == schema.Enum:
		if removed := missingSymbols(oi.Symbols, ni.Symbols); len(removed) > 0 {
			c := Change{Field: path, What: "changed", Detail: fmt.Sprintf("enum symbols removed: %v", removed)}
			if ni.EnumDefault < 0 {
				c.Breaking = "records written with the older version may hold a removed symbol; keep it, or give the enum a default symbol"
			}
			out = append(out, c)
		}
		if added := missingSymbols(ni.Symbols, oi.Symbols); len(added) > 0 {
			out = append(out, Change{Field: path, What: "changed", Detail: fmt.Sprintf("enum symbols added: %v", added)})
		}
	case oi.String() != ni.String():
		c := Change{Field: path, What: "changed", Detail: oi.String() + " to " + ni.String()}
		if !promotes(oi, ni) {
			c.Breaking = fmt.Sprintf("the %s values written with the older version cannot be read as %s; add a new field instead", oi, ni)
		}
		out = append(out, c)
	}
	return out
}

// promotes reports whether Avro lets a reader of type newer read values
// written as older: int to long, float or double; long to float or double;
// float to double; string and bytes both ways; the same type.
func promotes(older, newer *schema.Type) bool {
	if older.Logical != newer.Logical && older.Logical != schema.NoLogical {
		return false
	}
	o, n := older.Kind, newer.Kind
	switch {
	case o == n && o != schema.Union:
		return older.Logical == newer.Logical && (o != schema.Array || promotes(older.Items, newer.Items)) && (o != schema.Map || promotes(older.Values, newer.Values))
	case o == schema.Int:
		return n == schema.Long || n == schema.Float || n == schema.Double
	case o == schema.Long:
		return n == schema.Float || n == schema.Double
	case o == schema.Float:
		return n == schema.Double
	case o == schema.String:
		return n == schema.Bytes
	case o == schema.Bytes:
		return n == schema.String
	case n == schema.Union:
		for _, b := range newer.Branches {
			if promotes(older, b) {
				return true
			}
		}
	}
	return false
}

// missingSymbols returns the symbols of a that b lacks.
func missingSymbols(a, b []string) []string {
	in := map[string]bool{}
	for _, s := range b {
		in[s] = true
	}
	var out []string
	for _, s := range a {
		if !in[s] {
			out = append(out, s)
		}
	}
	return out
}
