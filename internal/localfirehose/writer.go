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

// An Appender is a Writer that also takes an object in parts, as a
// stream's destination buffer fills: Begin starts an object, each
// delivered batch is written to it, and it appears under its key when the
// buffer is delivered. The emulator gives a Writer that is not an
// Appender each object whole, from memory.
type Appender interface {
	Writer
	Begin(ctx context.Context) (Part, error)
}

// A Part is an object being written. Commit makes it appear, whole, under
// key; Abort discards it. One of the two ends every Part.
type Part interface {
	Write(p []byte) error
	Commit(ctx context.Context, key string) error
	Abort()
}

// Dir writes objects as files under a folder: the key's slashes become
// subfolders, as the S3 console shows them.
type Dir string

// path is the file of key under d, or an error for a key that would climb
// out of the folder.
func (d Dir) path(key string) (string, error) {
	// Partition keys come from record values: a key must not climb out of
	// the folder (S3 gives ".." no meaning; a file system does).
	rel := filepath.FromSlash(key)
	if strings.HasSuffix(key, "/") || !filepath.IsLocal(rel) || strings.Contains("/"+filepath.ToSlash(rel)+"/", "/../") {
		return "", fmt.Errorf("localfirehose: refusing object key %q outside %s", key, string(d))
	}
	return filepath.Join(string(d), rel), nil
}

// WriteObject writes body to <dir>/<key>, creating folders as needed. The
// file appears whole or not at all.
func (d Dir) WriteObject(_ context.Context, key string, body []byte) error {
	path, err := d.path(key)
	if err != nil {
		return err
	}
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

// Begin starts an object in a hidden file at the top of the folder (its
// key, and so its subfolder, is known only when it is committed).
func (d Dir) Begin(context.Context) (Part, error) {
	if err := os.MkdirAll(string(d), 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(string(d), ".partial-*")
	if err != nil {
		return nil, err
	}
	return &filePart{d: d, f: f}, nil
}

// filePart is an object of a Dir being written.
type filePart struct {
	d Dir
	f *os.File
}

func (p *filePart) Write(b []byte) error {
	_, err := p.f.Write(b)
	return err
}

// Commit closes the file and moves it to its key's place.
func (p *filePart) Commit(_ context.Context, key string) error {
	path, err := p.d.path(key)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(path), 0o755)
	}
	if err != nil {
		p.Abort()
		return err
	}
	if err := p.f.Close(); err != nil {
		os.Remove(p.f.Name())
		return err
	}
	return os.Rename(p.f.Name(), path)
}

// Abort removes the file.
func (p *filePart) Abort() {
	p.f.Close()
	os.Remove(p.f.Name())
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
