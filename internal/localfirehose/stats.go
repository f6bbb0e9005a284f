package localfirehose

import "maps"

// StreamStats counts what one stream received and what became of it.
// After Close, RecordsIn = Ok + Dropped + Failed.
type StreamStats struct {
	RecordsIn, BytesIn int64
	// Ok records were delivered, Dropped ones discarded by the transform,
	// Failed ones written to the error prefix (by error code).
	Ok, Dropped, Failed int64
	FailedByCode        map[string]int64
	// Invocations of the processor, and how many of them failed.
	Invocations, FailedInvocations int64
	// Files and BytesOut are delivered objects; ErrorFiles and ErrorBytes
	// the error prefix's.
	Files, BytesOut, ErrorFiles, ErrorBytes int64
	// Undelimited counts Ok records whose data does not end in a newline:
	// Firehose concatenates records as they are, so such records run into
	// the next document of the object.
	Undelimited int64
}

func (s *StreamStats) add(o StreamStats) {
	s.RecordsIn += o.RecordsIn
	s.BytesIn += o.BytesIn
	s.Ok += o.Ok
	s.Dropped += o.Dropped
	s.Failed += o.Failed
	for code, n := range o.FailedByCode {
		if s.FailedByCode == nil {
			s.FailedByCode = map[string]int64{}
		}
		s.FailedByCode[code] += n
	}
	s.Invocations += o.Invocations
	s.FailedInvocations += o.FailedInvocations
	s.Files += o.Files
	s.BytesOut += o.BytesOut
	s.ErrorFiles += o.ErrorFiles
	s.ErrorBytes += o.ErrorBytes
	s.Undelimited += o.Undelimited
}

// Stats is a snapshot of every stream's counters.
type Stats struct {
	Streams map[string]StreamStats
}

// Total sums every stream.
func (s Stats) Total() StreamStats {
	var t StreamStats
	for _, st := range s.Streams {
		t.add(st)
	}
	return t
}

// Stats returns a snapshot of the counters. Records still buffered count
// in RecordsIn only.
func (e *Emulator) Stats() Stats {
	out := Stats{Streams: make(map[string]StreamStats, len(e.streams))}
	for name, s := range e.streams {
		s.mu.Lock()
		st := s.stats
		st.FailedByCode = maps.Clone(s.stats.FailedByCode)
		s.mu.Unlock()
		out.Streams[name] = st
	}
	return out
}
