package rollup

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/sluicehq/sluice/internal/envelope"
)

// Document is a partial record's fields as the transform delivers them:
// numbers as json.Number, null as nil.
func Document(fields []envelope.Field) map[string]any {
	doc := make(map[string]any, len(fields))
	for _, f := range fields {
		switch f.Kind {
		case envelope.Null:
			doc[f.Name] = nil
		case envelope.Raw:
			doc[f.Name] = json.Number(f.Value)
		default:
			doc[f.Name] = f.Value
		}
	}
	return doc
}

// WriteCSV writes rows under a header of cols; null is an empty cell.
func WriteCSV(w io.Writer, cols []string, rows [][]any) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(cols); err != nil {
		return err
	}
	rec := make([]string, len(cols))
	for _, r := range rows {
		for i, v := range r {
			rec[i] = cell(v)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
