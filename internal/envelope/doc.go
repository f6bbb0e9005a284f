// Package envelope is the record format between the splitter and the
// transform: one JSON object per Firehose record carrying the schema name, a
// deterministic record id, provenance and the raw fields.
//
//	{"v":1,"id":"…","schema":"listing","source":{"bucket":…,"key":…,"version":…,
//	 "etag":…,"format":"csv","line":2,"offset":41,"ingested_at":"…"},"fields":{…}}
package envelope
