// Package b is a fixture for the code scanner: a constant read in package a.
package b

// EnvPath names the config variable.
const EnvPath = "SLUICE_CONFIG"
