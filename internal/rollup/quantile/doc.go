// Package quantile is the DDSketch of a rollup's quantiles measure, in
// github.com/DataDog/sketches-go's binary format: what
// ddsketch.NewDefaultDDSketch builds (logarithmic index mapping, buffered
// paginated stores), Encode writes and DecodeDDSketch, MergeWith and
// GetValueAtQuantile read. A sketch built by Add encodes to the very bytes
// sketches-go's does for the same values; merged sketches give the same
// quantiles. Tests, which import sketches-go, prove both.
//
// It exists because every sketches-go package but encoding (which this one
// uses) imports sketches-go's protobuf package, whose init registers
// descriptors, so importing sketches-go links google.golang.org/protobuf
// into the splitter. Protobuf's calls to reflect.Type.MethodByName, together
// with reflect2's (through hamba/avro), then turn off the linker's dead-code
// elimination of methods: with sketches-go the splitter's arm64 binary is
// 30.1 MB (zip 9.0 MB), without it 14.7 MB (zip 5.2 MB).
package quantile
