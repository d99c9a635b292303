package chat

import (
	"context"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/internal/xmpptest"
)

// hostileService is an HTTPS upload service run by h, and a file with the
// trust for it (as an account's ca_file).
func hostileService(t *testing.T, h http.HandlerFunc) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, ca
}

// TestUploadServiceThatNeverAnswers: a service that takes the whole file
// and then says nothing fails the upload once the client's answer time
// (IQTimeout) has passed, instead of holding it, full bar, until the user
// cancels.
func TestUploadServiceThatNeverAnswers(t *testing.T) {
	hold := make(chan struct{})
	srv, ca := hostileService(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-hold
	})
	defer close(hold)
	c := &Client{opts: Options{IQTimeout: 500 * time.Millisecond}, events: make(chan Event, 100)}
	path := filepath.Join(t.TempDir(), "f.bin")
	if err := os.WriteFile(path, make([]byte, 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	done := make(chan error, 1)
	go func() {
		s := slot{put: srv.URL + "/f.bin", get: srv.URL + "/f.bin", headers: http.Header{}}
		done <- c.put(context.Background(), s, f, 1000, "application/octet-stream", ca, &UploadProgress{Name: "f.bin", Total: 1000})
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("an upload without an answer succeeded")
		}
		t.Log(err)
	case <-time.After(xmpptest.Timeout(xmpptest.Local)):
		t.Fatal("the upload still waits for a service that never answers")
	}
}

// TestUploadServiceThatStalls: a service that stops taking the file half
// way fails the upload once nothing has moved for the client's answer time,
// instead of holding it until the user cancels.
func TestUploadServiceThatStalls(t *testing.T) {
	hold := make(chan struct{})
	srv, ca := hostileService(t, func(w http.ResponseWriter, r *http.Request) {
		io.CopyN(io.Discard, r.Body, 1<<20)
		<-hold
	})
	defer close(hold)
	c := &Client{opts: Options{IQTimeout: 500 * time.Millisecond}, events: make(chan Event, 100)}
	const size = 32 << 20 // more than the sockets' buffers hold
	path := filepath.Join(t.TempDir(), "f.bin")
	if err := os.WriteFile(path, make([]byte, size), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	done := make(chan error, 1)
	go func() {
		s := slot{put: srv.URL + "/f.bin", get: srv.URL + "/f.bin", headers: http.Header{}}
		done <- c.put(context.Background(), s, f, size, "application/octet-stream", ca, &UploadProgress{Name: "f.bin", Total: size})
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "stalled") {
			t.Fatalf("upload ended with %v, want it stalled", err)
		}
		t.Log(err)
	case <-time.After(xmpptest.Timeout(xmpptest.Local)):
		t.Fatal("the upload still waits for a service that stopped taking it")
	}
}
