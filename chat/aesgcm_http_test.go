package chat

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sealed is a file encrypted as a sender does, and its link on host.
func sealed(t *testing.T, host string, plain []byte, ivLen int) (ct []byte, link string) {
	t.Helper()
	iv, key := make([]byte, ivLen), make([]byte, 32)
	rand.Read(iv)
	rand.Read(key)
	aead, err := newAESGCM(key, ivLen)
	if err != nil {
		t.Fatal(err)
	}
	return aead.Seal(nil, iv, plain, nil), "aesgcm://" + host + "/d/file.bin#" + hex.EncodeToString(iv) + hex.EncodeToString(key)
}

// Downloads from a hostile or broken server: each fails with its reason
// and leaves nothing in the download directory; a redirect to https and
// a 16-byte IV are fine.
func TestFetchFileFromHostileServers(t *testing.T) {
	defer func(l int64) { encryptedLimit = l }(encryptedLimit)
	encryptedLimit = 1 << 20
	plain := bytes.Repeat([]byte("0123456789"), 10_000)
	var ct []byte
	var mode string
	hold := make(chan struct{})
	defer close(hold)
	srv, ca := hostileService(t, func(w http.ResponseWriter, r *http.Request) {
		switch mode {
		case "ok":
			w.Write(ct)
		case "altered":
			bad := append([]byte(nil), ct...)
			bad[len(bad)/2] ^= 0x80
			w.Write(bad)
		case "cut":
			w.Write(ct[:len(ct)-16]) // the tag missing
		case "short":
			w.Header().Set("Content-Length", strconv.Itoa(len(ct)))
			w.Write(ct[:len(ct)/2]) // then the connection ends
		case "declared too big":
			w.Header().Set("Content-Length", strconv.Itoa(int(encryptedLimit)+17))
			w.WriteHeader(http.StatusOK)
		case "too big":
			for i := 0; i < 20; i++ { // 2 MB, chunked: no length said
				w.Write(make([]byte, 100_000))
				w.(http.Flusher).Flush()
			}
		case "stalls":
			w.Header().Set("Content-Length", strconv.Itoa(len(ct)))
			w.Write(ct[:1000])
			w.(http.Flusher).Flush()
			<-hold
		case "missing":
			http.NotFound(w, r)
		case "to http":
			http.Redirect(w, r, "http://"+r.Host+"/x", http.StatusFound)
		case "to https":
			if r.URL.Path != "/moved" {
				http.Redirect(w, r, "/moved", http.StatusFound)
				return
			}
			w.Write(ct)
		}
	})
	host := strings.TrimPrefix(srv.URL, "https://")
	c := &Client{opts: Options{IQTimeout: 500 * time.Millisecond}, events: make(chan Event, 100)}
	for _, tc := range []struct {
		mode, want string
		ivLen      int
	}{
		{"ok", "", 12},
		{"ok", "", 16},
		{"to https", "", 12},
		{"altered", "does not match its key", 12},
		{"cut", "does not match its key", 12},
		{"short", "failed after", 12},
		{"declared too big", "more than the 1.0 MB", 12},
		{"too big", "more than the 1.0 MB", 12},
		{"stalls", "stalled", 12},
		{"missing", "HTTP 404", 12},
		{"to http", "not https", 12},
	} {
		var link string
		ct, link = sealed(t, host, plain, tc.ivLen)
		mode = tc.mode
		dir := filepath.Join(t.TempDir(), "dl")
		path, size, err := c.fetch(context.Background(), FetchFile{URL: link, Dir: dir}, ca)
		if tc.want == "" {
			if err != nil {
				t.Fatalf("%s (%d-byte IV): %v", tc.mode, tc.ivLen, err)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, plain) || size != int64(len(plain)) || filepath.Base(path) != "file.bin" {
				t.Fatalf("%s: saved %s, %d bytes", tc.mode, path, size)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: %v, want %q", tc.mode, err, tc.want)
		}
		if strings.Contains(err.Error(), link[strings.Index(link, "#")+1:]) {
			t.Fatalf("%s: the error shows the key: %v", tc.mode, err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("%s: left in the directory: %v", tc.mode, entries)
		}
	}
}
