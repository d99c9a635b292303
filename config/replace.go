package config

import (
	"os"
	"path/filepath"
)

// ReplaceFile writes data to path as a whole: into a fresh temporary file
// beside it (mode 0600, so never one a crash left behind with another
// mode), synced, then renamed over path. A reader sees the old file or the
// new one, never a part; a write through a symbolic link at path replaces
// the link, not what it points to. The directory is made (0700) if need be.
func ReplaceFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".new*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing to remove
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
