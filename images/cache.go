package images

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
)

// cache keeps what is keyed by digest (SBOMs, positive verification
// verdicts) under one directory, so that a second run over the same images
// pulls nothing but the tags' current digests. Every write goes through a
// temporary file and a rename, so concurrent runs sharing a directory (a CI
// cache) never read half a file. A nil cache caches nothing.
type cache struct {
	dir string
}

func (c *cache) path(kind, key string) string {
	return filepath.Join(c.dir, kind, sanitize(key))
}

func (c *cache) raw(kind, key string) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	b, err := os.ReadFile(c.path(kind, key))
	return b, err == nil
}

func (c *cache) get(kind, key string, v any) bool {
	b, ok := c.raw(kind, key)
	return ok && json.Unmarshal(b, v) == nil
}

func (c *cache) put(kind, key string, v any) {
	if c == nil {
		return
	}
	if b, err := json.Marshal(v); err == nil {
		c.putRaw(kind, key, b)
	}
}

// putRaw stores b; a cache that cannot be written is no error, only
// slower.
func (c *cache) putRaw(kind, key string, b []byte) {
	if c == nil {
		return
	}
	p := c.path(kind, key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if werr != nil || cerr != nil || os.Rename(f.Name(), p) != nil {
		os.Remove(f.Name())
	}
}

// sanitize keeps a key to one safe file name.
func sanitize(key string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '-'
	}, key)
}
