package xmpp

import (
	"crypto/tls"
	"strings"
	"testing"

	"mellium.im/sasl"
)

func TestChooseBinding(t *testing.T) {
	tls12 := tlsBinding{unique: true, exporter: true} // with extended master secret
	tls12NoEMS := tlsBinding{unique: true}
	tls13 := tlsBinding{tls13: true, exporter: true}
	for _, tc := range []struct {
		name       string
		server     []string
		advertised bool
		tls        tlsBinding
		want       string
	}{
		// No XEP-0440 advertisement: tls-unique where it exists, nothing on 1.3.
		{"TLS 1.2, no advertisement", nil, false, tls12, cbUnique},
		{"TLS 1.2 without EMS, no advertisement", nil, false, tls12NoEMS, cbUnique},
		{"TLS 1.3, no advertisement (ejabberd 23.01)", nil, false, tls13, ""},
		{"no TLS", nil, false, tlsBinding{}, ""},
		// Advertised: only what the server names, tls-exporter first.
		{"TLS 1.3, exporter advertised", []string{"tls-server-end-point", "tls-exporter"}, true, tls13, cbExporter},
		{"TLS 1.3, only unique advertised", []string{"tls-unique"}, true, tls13, ""},
		{"TLS 1.3, only end-point advertised", []string{"tls-server-end-point"}, true, tls13, ""},
		{"TLS 1.2, both advertised", []string{"tls-unique", "tls-exporter"}, true, tls12, cbExporter},
		{"TLS 1.2 without EMS, both advertised", []string{"tls-unique", "tls-exporter"}, true, tls12NoEMS, cbUnique},
		{"TLS 1.2 without EMS, exporter advertised", []string{"tls-exporter"}, true, tls12NoEMS, ""},
		{"TLS 1.2, unique advertised", []string{"tls-unique"}, true, tls12, cbUnique},
		{"empty advertisement", nil, true, tls12, ""},
	} {
		if got := chooseBinding(tc.server, tc.advertised, tc.tls); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// gs2 is the GS2 header the plan's first SCRAM message carries.
func gs2(t *testing.T, p authPlan, offered []string, cs tls.ConnectionState) string {
	t.Helper()
	neg := sasl.NewClient(p.mech,
		sasl.Credentials(func() ([]byte, []byte, []byte) { return []byte("u"), []byte("p"), nil }),
		sasl.TLSState(saslTLSState(cs, p.binding)),
		sasl.RemoteMechanisms(offered...))
	_, resp, err := neg.Step(nil)
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ := strings.Cut(string(resp), ",n=")
	return h
}

func TestChooseMechanism(t *testing.T) {
	ejabberd := []string{"SCRAM-SHA-512-PLUS", "SCRAM-SHA-512", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "PLAIN", "X-OAUTH2"}
	prosody13 := []string{"SCRAM-SHA-1", "PLAIN"}
	prosody12 := []string{"SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "PLAIN"}
	tls12 := tlsBinding{unique: true, exporter: true}
	tls13 := tlsBinding{tls13: true, exporter: true}
	state12 := tls.ConnectionState{Version: tls.VersionTLS12, TLSUnique: []byte("finished")}
	state13 := tls.ConnectionState{Version: tls.VersionTLS13}
	for _, tc := range []struct {
		name    string
		offered []string
		binding string
		tls     tlsBinding
		state   tls.ConnectionState
		want    string // mechanism name sent
		header  string // GS2 header of the first message
	}{
		{"ejabberd over TLS 1.3", ejabberd, "", tls13, state13, "SCRAM-SHA-256", "n,"},
		{"ejabberd over TLS 1.2", ejabberd, cbUnique, tls12, state12, "SCRAM-SHA-256-PLUS", "p=tls-unique,"},
		{"Prosody over TLS 1.3", prosody13, "", tls13, state13, "SCRAM-SHA-1", "y,"},
		{"Prosody over TLS 1.2", prosody12, cbUnique, tls12, state12, "SCRAM-SHA-1-PLUS", "p=tls-unique,"},
		{"exporter advertised, TLS 1.3", ejabberd, cbExporter, tls13, state13, "SCRAM-SHA-256-PLUS", "p=tls-exporter,"},
		{"no -PLUS offered, no TLS binding", prosody13, "", tlsBinding{}, state13, "SCRAM-SHA-1", "n,"},
		{"PLAIN only", []string{"PLAIN"}, "", tls13, state13, "PLAIN", ""},
	} {
		p, ok := chooseMechanism(tc.offered, tc.binding, tc.tls)
		if !ok || p.name != tc.want || p.binding != tc.binding {
			t.Errorf("%s: chose %q binding %q, want %q", tc.name, p.name, p.binding, tc.want)
			continue
		}
		if tc.header == "" {
			continue
		}
		if tc.binding == cbExporter {
			// A bare ConnectionState has no exporter: only the header is checked.
			tc.state.TLSUnique = nil
		}
		if h := gs2(t, p, tc.offered, tc.state); h != tc.header {
			t.Errorf("%s: GS2 header %q, want %q", tc.name, h, tc.header)
		}
	}
	if _, ok := chooseMechanism([]string{"X-OAUTH2"}, "", tls13); ok {
		t.Error("chose a mechanism among none supported")
	}
}

// A binding chosen is the one the SASL library uses, whatever the TLS
// version would have made it pick.
func TestSASLTLSStateFollowsChoice(t *testing.T) {
	if v := saslTLSState(tls.ConnectionState{Version: tls.VersionTLS12}, cbExporter).Version; v != tls.VersionTLS13 {
		t.Errorf("tls-exporter on TLS 1.2: version %x", v)
	}
	if v := saslTLSState(tls.ConnectionState{Version: tls.VersionTLS12}, cbUnique).Version; v != tls.VersionTLS12 {
		t.Errorf("tls-unique: version %x", v)
	}
}

func TestCheckServerFirst(t *testing.T) {
	for msg, ok := range map[string]bool{
		"r=abc,s=c2FsdA==,i=4096":       true,
		"r=abc,s=c2FsdA==,i=1000000":    true,
		"r=abc,s=c2FsdA==,i=1000001":    false,
		"r=abc,s=c2FsdA==,i=-1":         false,
		"r=abc,s=c2FsdA==,i=4096x":      false,
		"m=ext,r=abc,s=c2FsdA==,i=4096": false,
		"r=abc,i=4096":                  false,
		"r=abc,s=!!,i=4096":             false,
		"s=c2FsdA==,i=4096":             false,
		"r=abc,s=c2FsdA==":              false,
		"garbage":                       false,
	} {
		if err := checkServerFirst([]byte(msg)); (err == nil) != ok {
			t.Errorf("%q: %v", msg, err)
		}
	}
}
