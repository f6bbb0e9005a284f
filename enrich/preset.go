package enrich

import "github.com/sluicehq/sluice/internal/config"

// verdict is what a response means for a lookup.
type verdict int

const (
	found    verdict = iota // cache with CacheTTL
	negative                // cache with NegativeTTL
	retry                   // back off and try again (like 429 or 5xx)
	throttle                // like retry, and counted as throttled
	fail                    // fail at once: not retried, not cached
)

// preset interprets a 200 response body of a known API.
type preset interface {
	// judge returns the API's status for a decoded 200 body and what it
	// means, plus a message for errors.
	judge(doc any) (status string, v verdict, message string)
}

var presets = map[string]preset{
	config.PresetGoogleGeocode: googleGeocode{},
}

// googleGeocode reads the Google Geocoding API's "status" (see its
// documentation of status codes).
type googleGeocode struct{}

func (googleGeocode) judge(doc any) (string, verdict, string) {
	m, _ := doc.(map[string]any)
	status, _ := m["status"].(string)
	msg, _ := m["error_message"].(string)
	switch status {
	case "OK":
		return status, found, ""
	case "ZERO_RESULTS":
		return status, negative, ""
	case "OVER_QUERY_LIMIT":
		return status, throttle, msg
	case "UNKNOWN_ERROR": // "the request may succeed if you try again"
		return status, retry, msg
	case "REQUEST_DENIED", "INVALID_REQUEST", "OVER_DAILY_LIMIT":
		return status, fail, msg
	case "":
		return StatusError, fail, "response has no status"
	}
	return status, fail, msg
}
