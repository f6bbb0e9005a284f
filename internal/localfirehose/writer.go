package localfirehose

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Writer stores a delivered object under its S3 key.
type Writer interface {
	WriteObject(ctx context.Context, key string, body []byte) error
}

// Dir writes objects as files under a folder: the key's slashes become
// subfolders, as the S3 console shows them.
type Dir string

// WriteObject writes body to <dir>/<key>, creating folders as needed. The
// file appears whole or not at all.
func (d Dir) WriteObject(_ context.Context, key string, body []byte) error {
	// Partition keys come from record values: a key must not climb out of
	// the folder (S3 gives ".." no meaning; a file system does).
	rel := filepath.FromSlash(key)
	if strings.HasSuffix(key, "/") || !filepath.IsLocal(rel) || strings.Contains("/"+filepath.ToSlash(rel)+"/", "/../") {
		return fmt.Errorf("localfirehose: refusing object key %q outside %s", key, string(d))
	}
	path := filepath.Join(string(d), rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".partial-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Memory keeps objects in memory, for tests and dry runs.
type Memory struct {
	mu      sync.Mutex
	Objects map[string][]byte
}

// WriteObject stores a copy of body under key.
func (m *Memory) WriteObject(_ context.Context, key string, body []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Objects == nil {
		m.Objects = map[string][]byte{}
	}
	m.Objects[key] = append([]byte(nil), body...)
	return nil
}

// Keys returns the stored keys.
func (m *Memory) Keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]string, 0, len(m.Objects))
	for k := range m.Objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
