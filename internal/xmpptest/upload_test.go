package xmpptest

import (
	"bytes"
	"crypto/tls"
	"encoding/xml"
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
	slot, err := r.IQ(`<iq type='get' id='slot' to='`+UploadService+`'><request xmlns='urn:xmpp:http:upload:0' filename='a.bin' size='5' content-type='application/octet-stream'/></iq>`, "slot")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Slot struct {
			Put struct {
				URL     string `xml:"url,attr"`
				Headers []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:",chardata"`
				} `xml:"header"`
			} `xml:"put"`
			Get struct {
				URL string `xml:"url,attr"`
			} `xml:"get"`
		} `xml:"slot"`
	}
	if err := xml.Unmarshal([]byte(slot[strings.LastIndex(slot, "<iq"):]), &s); err != nil {
		t.Fatalf("%v\n%s", err, slot)
	}
	if !strings.HasPrefix(s.Slot.Put.URL, "https://127.0.0.1:") || s.Slot.Get.URL != s.Slot.Put.URL {
		t.Fatalf("slot URLs: put %q get %q", s.Slot.Put.URL, s.Slot.Get.URL)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.CertPool(t)}}}
	defer hc.CloseIdleConnections()
	put, _ := http.NewRequest("PUT", s.Slot.Put.URL, bytes.NewReader([]byte("hello")))
	put.ContentLength = 5
	put.Header.Set("Content-Type", "application/octet-stream")
	for _, h := range s.Slot.Put.Headers {
		put.Header.Set(h.Name, h.Value)
	}
	res, err := hc.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %s", res.Status)
	}
	res, err = hc.Get(s.Slot.Get.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "hello" {
		t.Fatalf("GET gave %q", body)
	}
}
