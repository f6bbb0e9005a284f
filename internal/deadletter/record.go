package deadletter

import (
	"encoding/json"

	"github.com/sluicehq/sluice/internal/envelope"
)

// Record is one dead-letter JSON line. Firehose writes the first seven
// fields for processing-failed records under its error prefix; the splitter
// writes the same shape with ErrorCode "Splitter.<Class>", a Reason and the
// Source of the line.
type Record struct {
	AttemptsMade           int64  `json:"attemptsMade"`
	ArrivalTimestamp       int64  `json:"arrivalTimestamp"`
	ErrorCode              string `json:"errorCode"`
	ErrorMessage           string `json:"errorMessage"`
	AttemptEndingTimestamp int64  `json:"attemptEndingTimestamp"`
	// RawData is the original record; it is base64 in JSON.
	RawData   []byte `json:"rawData"`
	LambdaArn string `json:"lambdaArn,omitempty"`
	// Reason is sluice's own explanation (splitter dead letters only:
	// Firehose does not carry the transform's reason).
	Reason string           `json:"reason,omitempty"`
	Source *envelope.Source `json:"source,omitempty"`
	// RecordID is the id the record has in its envelope (splitter dead
	// letters only; a Firehose error record carries the ids inside
	// RawData), so a dead letter can be matched with the record's other
	// copies and with what was delivered.
	RecordID string `json:"recordId,omitempty"`
}

// Marshal returns r as one newline-terminated JSON line.
func Marshal(r *Record) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
