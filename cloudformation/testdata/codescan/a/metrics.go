package a

import (
	"os"

	"github.com/sluicehq/sluice/internal/metrics"
)

const failed = "Failed"

func count() {
	m := metrics.New(os.Stdout, metrics.Dim{Name: "Function", Value: "transform"})
	m.Add("RecordsIn", metrics.Count, 1)
	m.Add(failed, metrics.Count, 1, metrics.Dim{"Stage", "x"})
	m.Add("NotAMetric", "Count", 1) // not a metrics.Unit: not counted
}
