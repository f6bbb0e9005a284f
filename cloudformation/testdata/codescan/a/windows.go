//go:build windows

package a

import "os"

var _ = os.Getenv("ONLY_ON_WINDOWS")
