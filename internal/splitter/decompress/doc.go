// Package decompress opens an object body for reading: gzip is detected by
// its magic bytes (not the key's extension), multi-member files are read
// whole, and the decompressed size is capped, absolutely and as a ratio of
// the compressed size, so a gzip bomb ends in a LimitError.
package decompress
