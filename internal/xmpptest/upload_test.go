package xmpptest

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestUploadService holds what upload.go says of mod_http_file_share:
// the service is found through disco, states its limit in a form, refuses
// a slot over it, and takes a PUT over HTTPS that a GET gives back.
func TestUploadService(t *testing.T) {
	srv := Start(t, Options{Upload: true, UploadLimit: 1 << 20})
	srv.Register(t, "alice", "pw")
	r, err := LoginRaw(srv, "alice", "pw", "raw")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	items, err := r.IQ(`<iq type='get' id='items' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`, "items")
	if err != nil || !strings.Contains(items, UploadService) {
		t.Fatalf("disco#items: %v\n%s", err, items)
	}
	info, err := r.IQ(`<iq type='get' id='info' to='`+UploadService+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, "info")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"urn:xmpp:http:upload:0", "max-file-size", ">1048576<"} {
		if !strings.Contains(info, want) {
			t.Fatalf("disco#info lacks %q:\n%s", want, info)
		}
	}
	big, err := r.IQ(`<iq type='get' id='big' to='`+UploadService+`'><request xmlns='urn:xmpp:http:upload:0' filename='a.bin' size='2000000' content-type='application/octet-stream'/></iq>`, "big")
	if err == nil || !strings.Contains(big, "file-too-large") {
		t.Fatalf("a slot over the limit was not refused as too large: %v\n%s", err, big)
	}
	slot, err := r.UploadSlot("a.bin", 5, "application/octet-stream")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(slot.Put, "https://127.0.0.1:") || slot.Get != slot.Put {
		t.Fatalf("slot URLs: put %q get %q", slot.Put, slot.Get)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.CertPool(t)}}}
	defer hc.CloseIdleConnections()
	put, _ := http.NewRequest("PUT", slot.Put, bytes.NewReader([]byte("hello")))
	put.ContentLength = 5
	put.Header.Set("Content-Type", "application/octet-stream")
	for name, value := range slot.Headers {
		put.Header.Set(name, value)
	}
	res, err := hc.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %s", res.Status)
	}
	res, err = hc.Get(slot.Get)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "hello" {
		t.Fatalf("GET gave %q", body)
	}
}
