package xmpp_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/xml"
	"fmt"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

// fakeServer is a direct-TLS listener on loopback with a certificate the
// test trusts, speaking as much XMPP as each test scripts: the script gets
// the TLS connection and a decoder positioned after the client's stream
// header. It is for what a hostile server does, which no real one will.
type fakeServer struct {
	Addr  string
	Roots *x509.CertPool
}

func newFakeServer(t *testing.T, script func(c net.Conn, d *xml.Decoder)) *fakeServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				d := xml.NewDecoder(c)
				for {
					tok, err := d.Token()
					if err != nil {
						return
					}
					if s, ok := tok.(xml.StartElement); ok && s.Name.Local == "stream" {
						break
					}
				}
				script(c, d)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return &fakeServer{Addr: l.Addr().String(), Roots: roots}
}

// streamHeader is what the fake server answers the client's header with.
const fakeStreamHeader = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' from='localhost' id='fake'>`

// nextElement reads the client's next top-level element.
func nextElement(d *xml.Decoder) (name string, text string, err error) {
	s, text, err := nextStart(d)
	return s.Name.Local, text, err
}

// nextStart reads the client's next top-level element: its start tag and
// the text directly inside it. A restarted stream header is returned as
// it is, without reading on.
func nextStart(d *xml.Decoder) (xml.StartElement, string, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.StartElement{}, "", err
		}
		if s, ok := tok.(xml.StartElement); ok {
			if s.Name.Local == "stream" {
				return s, "", nil
			}
			var v struct {
				Text string `xml:",chardata"`
			}
			err := d.DecodeElement(&v, &s)
			return s, v.Text, err
		}
	}
}

func attrOf(s xml.StartElement, local string) string {
	for _, a := range s.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// loginScript logs the client in (PLAIN, then bind as a@localhost/gab) and
// then runs then.
func loginScript(t *testing.T, then func(c net.Conn, d *xml.Decoder)) func(c net.Conn, d *xml.Decoder) {
	return func(c net.Conn, d *xml.Decoder) {
		fmt.Fprint(c, fakeStreamHeader+`<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`)
		if s, _, err := nextStart(d); err != nil || s.Name.Local != "auth" {
			t.Errorf("fake server: want <auth/>, got %v %v", s.Name, err)
			return
		}
		fmt.Fprint(c, `<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`)
		if s, _, err := nextStart(d); err != nil || s.Name.Local != "stream" {
			t.Errorf("fake server: want the restarted stream, got %v %v", s.Name, err)
			return
		}
		fmt.Fprint(c, fakeStreamHeader+`<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`)
		s, _, err := nextStart(d)
		if err != nil || s.Name.Local != "iq" {
			t.Errorf("fake server: want the bind request, got %v %v", s.Name, err)
			return
		}
		fmt.Fprintf(c, `<iq type='result' id='%s'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>a@localhost/gab</jid></bind></iq>`, attrOf(s, "id"))
		then(c, d)
	}
}
