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
}

func (c Change) String() string {
	if c.Detail == "" {
		return c.Field + ": " + c.What
	}
	return c.Field + ": " + c.What + ", " + c.Detail
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
			detail := nf.Type.String()
			if nf.HasDefault {
				detail += " with a default"
			} else {
				detail += " with no default: data written with the older version cannot be read"
			}
			out = append(out, Change{Field: path, What: "added", Detail: detail})
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
			out = append(out, Change{Field: path, What: "changed", Detail: "no longer nullable"})
		}
	}
	switch {
	case oi.Kind == schema.Record && ni.Kind == schema.Record:
		return append(out, recordChanges(path+".", oi.Fields, ni.Fields)...)
	case oi.Kind == schema.Enum && ni.Kind == schema.Enum:
		if removed := missingSymbols(oi.Symbols, ni.Symbols); len(removed) > 0 {
			out = append(out, Change{Field: path, What: "changed", Detail: fmt.Sprintf("enum symbols removed: %v", removed)})
		}
		if added := missingSymbols(ni.Symbols, oi.Symbols); len(added) > 0 {
			out = append(out, Change{Field: path, What: "changed", Detail: fmt.Sprintf("enum symbols added: %v", added)})
		}
	case oi.String() != ni.String():
		out = append(out, Change{Field: path, What: "changed", Detail: oi.String() + " to " + ni.String()})
	}
	return out
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
