// Package config reads and validates sluice.yaml, the one configuration file
// that the splitter Lambda, the transform Lambda and the CLI share.
//
// Load finds the file (SLUICE_CONFIG, else ./sluice.yaml), decodes it strictly
// and validates it; every error names the file, the key and what is wrong.
package config
