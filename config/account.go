package config

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"mellium.im/xmpp/jid"
)

// TLS modes for Account.TLS.
const (
	TLSStartTLS = "starttls" // connect in plain text and upgrade with STARTTLS (RFC 6120)
	TLSDirect   = "direct"   // TLS from the first byte (XEP-0368)
)

// Presence shows an account may start with.
var validStatus = []string{"online", "chat", "away", "xa", "dnd"}

// Account is one accounts/<name>.toml file.
type Account struct {
	Name string // file name without .toml
	File string // path it was read from

	JID             jid.JID
	Password        string
	PasswordCommand string
	Resource        string
	Server          string // host:port, empty for SRV lookup
	TLS             string
	CAFile          string
	Priority        int
	Status          string
	StatusMessage   string
	Enabled         bool
	PingInterval    time.Duration // XEP-0199 keep-alive; 0 turns pings off
	// MaxMessageSize is the largest message sent, in bytes on the wire.
	MaxMessageSize int
	ShareVersion   string // who is told gab's version (XEP-0092): ShareVersion* below
	// AllowPlainWithPinned lets gab log in with PLAIN (the password itself,
	// inside TLS) to a server whose certificate only a pin vouches for.
	AllowPlainWithPinned bool
	// Nick is the nick taken in rooms unless one is given; "" means the
	// JID's localpart.
	Nick string
	// OMEMO: this device has OMEMO keys, published for contacts to
	// encrypt to, and encrypts where the conversation asks (omemo).
	OMEMO bool
	// OMEMOTrust is how a contact's new device is trusted: OMEMOTrustBlind
	// (until the user decides) or OMEMOTrustManual (only once the user
	// trusted it).
	OMEMOTrust string
	// OMEMOPolicy is when a conversation is encrypted before anyone said
	// so: OMEMOPolicyAuto (a chat with a contact who has OMEMO devices, a
	// room that can be encrypted) or OMEMOPolicyManual (only after /omemo
	// on, or once an encrypted message was seen there).
	OMEMOPolicy string
}

// The values of omemo_trust.
const (
	OMEMOTrustBlind  = "blind"
	OMEMOTrustManual = "manual"
)

// The values of omemo_policy.
const (
	OMEMOPolicyAuto   = "auto"
	OMEMOPolicyManual = "manual"
)

// DefaultMaxMessageSize is the largest message gab sends unless an
// account says otherwise: 64 KiB as sent (the whole stanza, XML-escaped).
// Servers refuse bigger stanzas by closing the connection — Prosody above
// 256 KiB (c2s_stanza_size_limit), ejabberd above its max_stanza_size
// (256 KiB in its example configuration, 64 KiB in older ones) — and a
// message also travels to the contact's server and into archives, wrapped
// in more XML. RFC 6120 §13.12 only promises 10,000 bytes. 64 KiB is about
// 30 pages of text, a quarter of the usual limit: room for the wrapping
// and for servers set lower.
const DefaultMaxMessageSize = 64 << 10

// Bounds of max_message_size: RFC 6120's guaranteed minimum, and the most
// gab itself reads in one stanza.
const (
	MinMessageSize = 10000
	MaxMessageSize = 1 << 20
)

// Who is told the software version (Account.ShareVersion). Your own
// account's other clients are always told.
const (
	ShareVersionContacts = "contacts" // contacts with a subscription "from" or "both"
	ShareVersionEveryone = "everyone"
	ShareVersionSelf     = "self" // only your own account
)

// accountFields is the schema of an account file.
func accountFields(a *Account) map[string]field {
	str := func(dst *string) func(any) error {
		return func(v any) error { *dst = v.(string); return nil }
	}
	return map[string]field{
		"jid": {kindString, func(v any) error {
			s := v.(string)
			j, err := jid.Parse(s)
			if err != nil {
				return fmt.Errorf("%q is not a valid JID: %v", s, err)
			}
			if j.Localpart() == "" {
				return fmt.Errorf("%q has no user part; write it as user@%s", s, j.Domainpart())
			}
			if j.Resourcepart() != "" {
				return fmt.Errorf("%q has a resource; put it in the resource key instead", s)
			}
			a.JID = j
			return nil
		}},
		"password":         {kindString, str(&a.Password)},
		"password_command": {kindString, str(&a.PasswordCommand)},
		"resource": {kindString, func(v any) error {
			s := v.(string)
			if _, err := jid.New("x", "example.net", s); err != nil {
				return fmt.Errorf("%q is not a valid resource: %v", s, err)
			}
			a.Resource = s
			return nil
		}},
		"server": {kindString, func(v any) error {
			s := v.(string)
			host, port, err := net.SplitHostPort(s)
			if err != nil || host == "" {
				return fmt.Errorf("%q must be host:port, for example xmpp.example.net:5222", s)
			}
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return fmt.Errorf("%q has no valid port", s)
			}
			a.Server = s
			return nil
		}},
		"tls": {kindString, func(v any) error {
			s := v.(string)
			if s != TLSStartTLS && s != TLSDirect {
				return fmt.Errorf("%q is not a TLS mode; use %q or %q", s, TLSStartTLS, TLSDirect)
			}
			a.TLS = s
			return nil
		}},
		"ca_file": {kindString, str(&a.CAFile)},
		"priority": {kindInt, func(v any) error {
			n := v.(int64)
			if n < -128 || n > 127 {
				return fmt.Errorf("%d is out of range -128..127", n)
			}
			a.Priority = int(n)
			return nil
		}},
		"status": {kindString, func(v any) error {
			s := v.(string)
			for _, ok := range validStatus {
				if s == ok {
					a.Status = s
					return nil
				}
			}
			return fmt.Errorf("%q is not a status; use one of %s", s, strings.Join(validStatus, ", "))
		}},
		"status_message": {kindString, str(&a.StatusMessage)},
		"nick": {kindString, func(v any) error {
			s := strings.TrimSpace(v.(string))
			// A nick is the resource of an occupant's JID (XEP-0045 §7.2).
			if _, err := jid.New("room", "example.org", s); s == "" || err != nil {
				return fmt.Errorf("%q cannot be a nick in a room", v.(string))
			}
			a.Nick = s
			return nil
		}},
		"enabled": {kindBool, func(v any) error { a.Enabled = v.(bool); return nil }},
		"share_version": {kindString, func(v any) error {
			s := v.(string)
			if s != ShareVersionContacts && s != ShareVersionEveryone && s != ShareVersionSelf {
				return fmt.Errorf("%q is not one of %q, %q or %q", s, ShareVersionContacts, ShareVersionEveryone, ShareVersionSelf)
			}
			a.ShareVersion = s
			return nil
		}},
		"allow_plain_with_pinned": {kindBool, func(v any) error { a.AllowPlainWithPinned = v.(bool); return nil }},
		"ping_interval": {kindInt, func(v any) error {
			n := v.(int64)
			if n != 0 && (n < 5 || n > 3600) {
				return fmt.Errorf("%d is not 0 (off) or 5..3600 seconds", n)
			}
			a.PingInterval = time.Duration(n) * time.Second
			return nil
		}},
		"omemo": {kindBool, func(v any) error { a.OMEMO = v.(bool); return nil }},
		"omemo_trust": {kindString, func(v any) error {
			s := v.(string)
			if s != OMEMOTrustBlind && s != OMEMOTrustManual {
				return fmt.Errorf("%q is not %q or %q", s, OMEMOTrustBlind, OMEMOTrustManual)
			}
			a.OMEMOTrust = s
			return nil
		}},
		"omemo_policy": {kindString, func(v any) error {
			s := v.(string)
			if s != OMEMOPolicyAuto && s != OMEMOPolicyManual {
				return fmt.Errorf("%q is not %q or %q", s, OMEMOPolicyAuto, OMEMOPolicyManual)
			}
			a.OMEMOPolicy = s
			return nil
		}},
		"max_message_size": {kindInt, func(v any) error {
			n := v.(int64)
			if n < MinMessageSize || n > MaxMessageSize {
				return fmt.Errorf("%d is not %d..%d bytes", n, MinMessageSize, MaxMessageSize)
			}
			a.MaxMessageSize = int(n)
			return nil
		}},
	}
}

// ParseAccount decodes and validates one account file's contents. file is
// used in problems and to resolve a relative ca_file.
func ParseAccount(file string, data []byte) (*Account, Problems) {
	a := &Account{
		Name:           strings.TrimSuffix(filepath.Base(file), ".toml"),
		File:           file,
		TLS:            TLSStartTLS,
		OMEMOTrust:     OMEMOTrustBlind,
		OMEMOPolicy:    OMEMOPolicyAuto,
		Status:         "online",
		Enabled:        true,
		PingInterval:   60 * time.Second,
		MaxMessageSize: DefaultMaxMessageSize,
		ShareVersion:   ShareVersionContacts,
	}
	probs := decodeFile(file, data, accountFields(a))
	if len(probs) > 0 && probs[0].Line > 0 && strings.HasPrefix(probs[0].Msg, "syntax error") {
		return nil, probs
	}
	lines := keyLines(data)
	if _, ok := lines["jid"]; !ok {
		probs = append(probs, Problem{File: file, Msg: `missing required key "jid" (for example jid = "alice@example.net")`})
	}
	if a.Password == "" && a.PasswordCommand == "" {
		probs = append(probs, Problem{File: file, Msg: `no password source: set password_command (preferred) or password`})
	}
	if a.Password != "" && a.PasswordCommand != "" {
		probs = append(probs, Problem{File: file, Line: lines["password"], Msg: "set password or password_command, not both"})
	}
	if a.CAFile != "" {
		if !filepath.IsAbs(a.CAFile) {
			a.CAFile = filepath.Join(filepath.Dir(file), a.CAFile)
		}
		if _, err := os.Stat(a.CAFile); err != nil {
			probs = append(probs, Problem{File: file, Line: lines["ca_file"], Msg: fmt.Sprintf("ca_file: %v", err)})
		}
	}
	return a, probs
}

// LoadAccount reads accounts/<name>.toml and checks that a file holding a
// password cannot be read by anyone but its owner.
func LoadAccount(file string) (*Account, Problems) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, Problems{{File: file, Msg: err.Error()}}
	}
	a, probs := ParseAccount(file, data)
	if a != nil && a.PasswordCommand != "" {
		if p, bad := writableByOthers(file, keyLines(data)["password_command"], "password_command"); bad {
			probs = append(probs, p)
		}
	}
	if a != nil && a.Password != "" {
		if st, err := os.Stat(file); err == nil && st.Mode().Perm()&0o077 != 0 {
			probs = append(probs, Problem{File: file, Msg: fmt.Sprintf(
				"holds a password but can be read by others (mode %04o); run: chmod 600 %s",
				st.Mode().Perm(), file)})
		}
	}
	return a, probs
}

// LoadAccounts reads every accounts/*.toml under dir, sorted by name.
func LoadAccounts(dir string) ([]*Account, Problems) {
	files, err := filepath.Glob(filepath.Join(dir, "accounts", "*.toml"))
	if err != nil {
		return nil, Problems{{File: dir, Msg: err.Error()}}
	}
	sort.Strings(files)
	var accts []*Account
	var probs Problems
	for _, f := range files {
		a, ps := LoadAccount(f)
		probs = append(probs, ps...)
		if a != nil && len(ps) == 0 {
			accts = append(accts, a)
		}
	}
	return accts, probs
}

// ErrNoPassword is returned when a password command prints nothing.
var ErrNoPassword = errors.New("password command printed no password")

// Secret returns the account's password, running password_command through
// sh -c when it is set. Only the first line of its standard output is used.
// Neither the command's output nor the password ever appears in an error.
func (a *Account) Secret(ctx context.Context) (string, error) {
	if a.PasswordCommand == "" {
		return a.Password, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", a.PasswordCommand)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = nil
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("account %s: password_command failed: %v", a.Name, err)
	}
	line, _ := bufio.NewReader(&out).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("account %s: %w", a.Name, ErrNoPassword)
	}
	return line, nil
}
