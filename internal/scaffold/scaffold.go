package scaffold

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

//go:embed project
var project embed.FS

// Files lists the project's files, relative to its folder.
func Files() []string {
	var files []string
	fs.WalkDir(project, "project", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, target(strings.TrimPrefix(p, "project/")))
		}
		return err
	})
	return files
}

// target maps an embedded name to the file written: "gitignore" becomes
// ".gitignore" (a dot file would not be embedded).
func target(name string) string {
	if name == "gitignore" {
		return ".gitignore"
	}
	return name
}

// Write writes the project into dir, creating it. It refuses to overwrite:
// if any of the files exists, it writes nothing and names them.
func Write(dir string) ([]string, error) {
	var exist []string
	for _, f := range Files() {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			exist = append(exist, f)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("scaffold: %w", err)
		}
	}
	if len(exist) > 0 {
		return nil, fmt.Errorf("scaffold: %s already has %s: not overwritten (choose an empty folder)", dir, strings.Join(exist, ", "))
	}
	var written []string
	err := fs.WalkDir(project, "project", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := project.ReadFile(p)
		if err != nil {
			return err
		}
		rel := target(strings.TrimPrefix(p, "project/"))
		out := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(out, b, 0o644); err != nil {
			return err
		}
		written = append(written, path.Clean(rel))
		return nil
	})
	if err != nil {
		return written, fmt.Errorf("scaffold: %w", err)
	}
	return written, nil
}
