// HTTP File Upload (XEP-0363) on the test server: Options{Upload: true}.
//
// What Options.Upload adds to Prosody 0.12.3: the component
// "upload.localhost" (UploadService) running mod_http_file_share, served
// over HTTPS on a port of its own on 127.0.0.1 (Server.HTTPSPort) with the
// test certificate, so a client trusts it as it trusts the XMPP server
// (Server.CAFile). The plain HTTP port is closed. The size limit is
// Options.UploadLimit (default 10 MiB); the daily quota is lifted so that
// tests and benchmarks may upload as much as they like.
//
// Facts checked against that server (upload_test.go holds them):
//
//   - disco#items of localhost lists upload.localhost; its disco#info has
//     identity store/file and feature urn:xmpp:http:upload:0, and an
//     XEP-0128 form (FORM_TYPE urn:xmpp:http:upload:0) with max-file-size
//     in bytes.
//   - A slot request over the limit is refused with not-acceptable and
//     <file-too-large xmlns='urn:xmpp:http:upload:0'><max-size>N</max-size>.
//   - The slot's put and get URLs are the same https://127.0.0.1:PORT/...
//     URL (http_host is 127.0.0.1, which the certificate names); the PUT
//     needs the slot's Authorization header (a bearer token) and the size
//     and type asked for; it answers 201, and a GET then returns the bytes.
package xmpptest

import (
	"encoding/xml"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
)

// UploadService is the HTTP File Upload service of a server started with
// Options{Upload: true}.
const UploadService = "upload." + Domain

// DefaultUploadLimit is the upload size limit when Options.UploadLimit is 0.
const DefaultUploadLimit = 10 << 20

// HTTPSAddr is the HTTPS port of the upload service as host:port ("" when
// the server has none).
func (s *Server) HTTPSAddr() string {
	if s.HTTPSPort == 0 {
		return ""
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.HTTPSPort))
}

// uploadConfig is the global part (the HTTPS port) and the component that
// Options.Upload adds.
func (s *Server) uploadConfig(o Options) (global, component string) {
	if !o.Upload {
		return "", ""
	}
	limit := o.UploadLimit
	if limit <= 0 {
		limit = DefaultUploadLimit
	}
	global = fmt.Sprintf(`http_ports = { }
https_ports = { %d }
https_interfaces = { "127.0.0.1" }
http_interfaces = { "127.0.0.1" }
https_ssl = { certificate = %q; key = %q }
`, s.HTTPSPort, s.Dir+"/localhost.crt", s.Dir+"/localhost.key")
	component = fmt.Sprintf(`
Component %q "http_file_share"
http_host = "127.0.0.1"
http_file_share_size_limit = %d
http_file_share_daily_quota = %d
`, UploadService, limit, int64(1)<<40)
	return global, component
}

// Slot is an upload slot as the service gave it (XEP-0363 §4).
type Slot struct {
	Put, Get string
	Headers  map[string]string // to send with the PUT
}

var slotIDs atomic.Int64

// UploadSlot asks UploadService for a slot for a file of size bytes.
func (r *Raw) UploadSlot(name string, size int64, ctype string) (Slot, error) {
	id := fmt.Sprintf("slot%d", slotIDs.Add(1))
	got, err := r.IQ(fmt.Sprintf(`<iq type='get' id='%s' to='%s'><request xmlns='urn:xmpp:http:upload:0' filename='%s' size='%d' content-type='%s'/></iq>`,
		id, UploadService, name, size, ctype), id)
	if err != nil {
		return Slot{}, err
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
	if err := xml.Unmarshal([]byte(got[strings.LastIndex(got, "<iq"):]), &s); err != nil {
		return Slot{}, fmt.Errorf("slot %s: %v", got, err)
	}
	out := Slot{Put: s.Slot.Put.URL, Get: s.Slot.Get.URL, Headers: map[string]string{}}
	for _, h := range s.Slot.Put.Headers {
		out.Headers[h.Name] = h.Value
	}
	return out, nil
}
