// Package topology draws and checks the graph a config describes: routes
// send records to streams, streams deliver objects under their prefixes,
// and routes that read those prefixes chain further stages. It refuses
// cycles and topics nobody reads, and prints the graph as text or DOT.
package topology
