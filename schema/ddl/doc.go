// Package ddl writes destination definitions from sluice's Avro schemas:
// a Redshift table with its COPY JSONPaths, an OpenSearch index template,
// and the Glue table that Firehose's Parquet conversion reads.
//
// Every definition loads exactly the JSON documents schema.AppendJSON
// writes, so what the transform delivers is what the destination expects.
package ddl
