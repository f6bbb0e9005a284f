package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	defer func(f func() (*debug.BuildInfo, bool)) { readBuildInfo = f }(readBuildInfo)
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"go install @version", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.4.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}}},
			"sluice v0.4.0 (commit 0123456789ab, go1.26.8)"},
		{"built in a dirty checkout", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}},
			"sluice (devel) (commit abc, modified, go1.26.8)"},
		{"no vcs", &debug.BuildInfo{GoVersion: "go1.26.8"}, "sluice (devel) (commit unknown, go1.26.8)"},
		{"go install @latest of an untagged commit", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261130061500-7f0793b1c2d3"}},
			"sluice v0.0.0-20261130061500-7f0793b1c2d3 (commit 7f0793b1c2d3, go1.26.8)"},
		{"pseudo-version after a tag", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.4.1-0.20261130061500-7f0793b1c2d3"}},
			"sluice v0.4.1-0.20261130061500-7f0793b1c2d3 (commit 7f0793b1c2d3, go1.26.8)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			readBuildInfo = func() (*debug.BuildInfo, bool) { return tt.bi, true }
			code, out, _ := sluice(t, "version")
			if code != exitOK || strings.TrimSpace(out) != tt.want {
				t.Errorf("exit %d, %q; want %q", code, out, tt.want)
			}
		})
	}
	readBuildInfo = debug.ReadBuildInfo
	if code, out, _ := sluice(t, "version"); code != exitOK || !strings.Contains(out, "go1.") {
		t.Errorf("real build info: exit %d, %q", code, out)
	}
}
