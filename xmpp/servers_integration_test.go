package xmpp_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// serverConfig is a login to any test server.
func serverConfig(t *testing.T, srv xmpptest.XMPPServer, user, pass string) xmpp.Config {
	return xmpp.Config{
		JID:      jid.MustParse(user + "@" + xmpptest.Domain),
		Password: pass,
		Resource: "test",
		Server:   srv.Addr(),
		RootCAs:  srv.CertPool(t),
	}
}

// login dials and checks the session answers a roster request.
func login(t *testing.T, cfg xmpp.Config) *xmpp.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	s, err := xmpp.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	t.Logf("logged in with %s (binding %q) in %v", s.Mechanism(), s.ChannelBinding(), time.Since(start))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, err := s.Next(nil); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { s.Close(); <-done })
	res, err := s.SendIQ(ctx, xmpp.E(xmpp.NSClient, "iq", "type", "get").Add(xmpp.E("jabber:iq:roster", "query")))
	if err != nil || res.Child("jabber:iq:roster", "query") == nil {
		t.Fatalf("roster get: %v %v", res, err)
	}
	return s
}

// Logins that differ between servers: the mechanism and channel binding
// chosen over TLS 1.3 and 1.2, and the stream's language in a C locale.
func TestServerLogins(t *testing.T) {
	servers := []func(t *testing.T) xmpptest.XMPPServer{
		func(t *testing.T) xmpptest.XMPPServer { return xmpptest.StartEjabberd(t, xmpptest.EjabberdOptions{}) },
		func(t *testing.T) xmpptest.XMPPServer { return xmpptest.Start(t, xmpptest.Options{}) },
	}
	for _, start := range servers {
		srv := start(t)
		srv.Register(t, "alice", "pw")
		t.Run(srv.Name(), func(t *testing.T) {
			t.Run("TLS1.3", func(t *testing.T) {
				// ejabberd offers -PLUS over TLS 1.3 without saying which
				// binding it knows (only tls-unique, undefined in 1.3);
				// Prosody offers no -PLUS there.
				s := login(t, serverConfig(t, srv, "alice", "pw"))
				if !strings.HasPrefix(s.Mechanism(), "SCRAM-") || strings.HasSuffix(s.Mechanism(), "-PLUS") || s.ChannelBinding() != "" {
					t.Errorf("over TLS 1.3 without XEP-0440: %s with %q, want SCRAM without -PLUS", s.Mechanism(), s.ChannelBinding())
				}
			})
			t.Run("TLS1.2", func(t *testing.T) {
				cfg := serverConfig(t, srv, "alice", "pw")
				cfg.TLSMaxVersion = tls.VersionTLS12
				s := login(t, cfg)
				if !strings.HasSuffix(s.Mechanism(), "-PLUS") || s.ChannelBinding() != "tls-unique" {
					t.Errorf("over TLS 1.2: %s with %q, want -PLUS with tls-unique", s.Mechanism(), s.ChannelBinding())
				}
			})
			t.Run("CLocale", func(t *testing.T) {
				for _, lang := range []string{xmpp.LangFromLocale("C.UTF-8"), "C", "C.UTF-8", "POSIX"} {
					cfg := serverConfig(t, srv, "alice", "pw")
					cfg.Lang = lang
					login(t, cfg)
				}
			})
		})
	}
}
