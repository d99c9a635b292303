package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The raw-stream log holds whole conversations: it is the user's alone,
// whether gab creates it or appends to a file that was readable by others.
func TestXMLLogIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	fresh := filepath.Join(dir, "new.log")
	existing := filepath.Join(dir, "old.log")
	if err := os.WriteFile(existing, []byte("earlier\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fresh, existing} {
		f, err := openXMLLog(p)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("<stream/>\n")
		f.Close()
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", filepath.Base(p), st.Mode().Perm())
		}
	}
	if b, _ := os.ReadFile(existing); string(b) != "earlier\n<stream/>\n" {
		t.Fatalf("the log was not appended to: %q", b)
	}
}
