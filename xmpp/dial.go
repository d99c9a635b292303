package xmpp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// target is one address to try and how to secure it.
type target struct {
	addr   string
	direct bool // TLS from the first byte (XEP-0368) instead of STARTTLS
}

// Resolver looks up SRV records; *net.Resolver satisfies it.
type Resolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
}

// targets lists where to connect for domain, in order (RFC 6120 §3.2,
// XEP-0368): direct-TLS SRV records, then STARTTLS ones, then the domain
// itself on the default port. With directOnly only TLS-from-the-start
// targets are tried. A server setting skips SRV entirely.
func targets(ctx context.Context, r Resolver, domain, server string, directOnly bool) []target {
	if server != "" {
		return []target{{addr: server, direct: directOnly}}
	}
	var out []target
	services := []struct {
		name   string
		direct bool
	}{{"xmpps-client", true}, {"xmpp-client", false}}
	for _, svc := range services {
		if directOnly && !svc.direct {
			continue
		}
		_, srvs, err := r.LookupSRV(ctx, svc.name, "tcp", domain)
		if err != nil {
			continue
		}
		// A single record whose target is "." means the service is
		// decidedly not available at this domain.
		if len(srvs) == 1 && (srvs[0].Target == "." || srvs[0].Target == "") {
			continue
		}
		for _, s := range srvs {
			host := strings.TrimSuffix(s.Target, ".")
			out = append(out, target{addr: net.JoinHostPort(host, strconv.Itoa(int(s.Port))), direct: svc.direct})
		}
	}
	if len(out) == 0 {
		port := "5222"
		if directOnly {
			port = "5223"
		}
		out = append(out, target{addr: net.JoinHostPort(domain, port), direct: directOnly})
	}
	return out
}

// connect tries each target in turn and returns the first connection, with
// TLS already up for direct targets.
func connect(ctx context.Context, cfg *Config, domain string) (net.Conn, bool, error) {
	var errs []error
	for _, t := range targets(ctx, cfg.resolver(), domain, cfg.Server, cfg.DirectTLS) {
		d := net.Dialer{Timeout: cfg.connectTimeout(), KeepAlive: cfg.KeepAlive}
		conn, err := d.DialContext(ctx, "tcp", t.addr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !t.direct {
			return conn, false, nil
		}
		conf, err := cfg.tlsConfig(domain, true)
		if err != nil {
			conn.Close()
			return nil, false, err
		}
		tc := tls.Client(conn, conf)
		hctx, cancel := context.WithTimeout(ctx, cfg.negotiateTimeout())
		err = tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			conn.Close()
			return nil, false, tlsError(err, cfg.Pinned)
		}
		return tc, true, nil
	}
	if len(errs) == 0 {
		return nil, false, fmt.Errorf("no address to connect to for %s", domain)
	}
	return nil, false, fmt.Errorf("connect to %s: %w", domain, errors.Join(errs...))
}

// tlsError wraps a handshake failure, keeping the certificate the server
// presented so the user can see what was refused. With a pin, any other
// certificate is a changed one, whatever else is wrong with it: one no
// authority signed fails verification before the pin is even compared,
// and must not read as a certificate seen for the first time (which the
// user could be offered to trust, replacing the pin).
func tlsError(err error, pinned *x509.Certificate) error {
	var cve *tls.CertificateVerificationError
	if pinned != nil && errors.As(err, &cve) && len(cve.UnverifiedCertificates) > 0 && !cve.UnverifiedCertificates[0].Equal(pinned) {
		ch := &CertChangedError{Pinned: pinned, Got: cve.UnverifiedCertificates[0]}
		return &TLSError{Err: ch, Cert: ch.Got}
	}
	te := &TLSError{Err: err}
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	var ch *CertChangedError
	switch {
	case errors.As(err, &ch):
		te.Cert = ch.Got
	case errors.As(err, &ua):
		te.Cert = ua.Cert
	case errors.As(err, &hn):
		te.Cert = hn.Certificate
	case errors.As(err, &ci):
		te.Cert = ci.Cert
	}
	return te
}
