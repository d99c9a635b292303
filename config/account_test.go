package config

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseAccountProblems(t *testing.T) {
	cases := []struct {
		name string
		file string
		want []string // each "line:substring"; line 0 for file-wide problems
	}{
		{
			name: "unknown key with suggestion",
			file: "jid = \"a@example.net\"\npassword_command = \"echo x\"\nresouce = \"laptop\"\n",
			want: []string{`3:unknown key "resouce" (did you mean "resource"?)`},
		},
		{
			name: "nick that no room can take",
			file: "jid = \"a@example.net\"\npassword_command = \"echo x\"\nnick = \"   \"\n",
			want: []string{`3:nick: "   " cannot be a nick in a room`},
		},
		{
			name: "wrong type",
			file: "jid = \"a@example.net\"\npassword = \"x\"\npriority = \"high\"\n",
			want: []string{"3:priority must be an integer, not a string"},
		},
		{
			name: "invalid jid",
			file: "password = \"x\"\n\njid = \"a@b@c\"\n",
			want: []string{"3:jid: \"a@b@c\" is not a valid JID"},
		},
		{
			name: "jid without user",
			file: "jid = \"example.net\"\npassword = \"x\"\n",
			want: []string{"1:jid: \"example.net\" has no user part"},
		},
		{
			name: "unknown omemo policy",
			file: "jid = \"a@example.net\"\npassword = \"x\"\nomemo_policy = \"always\"\n",
			want: []string{`3:omemo_policy: "always" is not "auto" or "manual"`},
		},
		{
			name: "bad tls",
			file: "jid = \"a@example.net\"\npassword = \"x\"\ntls = \"yes\"\n",
			want: []string{`3:tls: "yes" is not a TLS mode`},
		},
		{
			name: "missing password source",
			file: "jid = \"a@example.net\"\n",
			want: []string{"0:no password source"},
		},
		{
			name: "missing jid",
			file: "password = \"x\"\n",
			want: []string{`0:missing required key "jid"`},
		},
		{
			name: "syntax error",
			file: "jid = \"a@example.net\"\npassword = x\n",
			want: []string{"2:syntax error"},
		},
		{
			name: "bad status and priority range",
			file: "jid = \"a@example.net\"\npassword = \"x\"\nstatus = \"busy\"\npriority = 300\n",
			want: []string{`3:status: "busy" is not a status`, "4:priority: 300 is out of range"},
		},
		{
			name: "ping interval out of range",
			file: "jid = \"a@example.net\"\npassword = \"x\"\nping_interval = 2\n",
			want: []string{"3:ping_interval: 2 is not 0 (off) or 5..3600 seconds"},
		},
		{
			name: "message size limit out of range",
			file: "jid = \"a@example.net\"\npassword = \"x\"\nmax_message_size = 4096\n",
			want: []string{"3:max_message_size: 4096 is not 10000..1048576 bytes"},
		},
		{
			name: "allow_plain_with_pinned not a boolean",
			file: "jid = \"a@example.net\"\npassword = \"x\"\nallow_plain_with_pinned = \"yes\"\n",
			want: []string{"3:allow_plain_with_pinned"},
		},
		{
			name: "bad server",
			file: "jid = \"a@example.net\"\npassword = \"x\"\nserver = \"example.net\"\n",
			want: []string{"3:server: \"example.net\" must be host:port"},
		},
		{
			name: "both password sources",
			file: "jid = \"a@example.net\"\npassword = \"x\"\npassword_command = \"pass show x\"\n",
			want: []string{"2:set password or password_command, not both"},
		},
		{
			name: "tables are not account keys",
			file: "jid = \"a@example.net\"\npassword = \"x\"\n[ui]\ntheme = \"dark\"\n",
			want: []string{`3:unknown key "ui"`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, probs := ParseAccount("/cfg/accounts/a.toml", []byte(tc.file))
			if len(probs) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(probs), len(tc.want), probs)
			}
			for i, w := range tc.want {
				line, msg, _ := strings.Cut(w, ":")
				if got := probs[i]; got.File != "/cfg/accounts/a.toml" || !strings.Contains(got.Msg, msg) || itoa(got.Line) != line {
					t.Errorf("problem %d = %q, want line %s containing %q", i, got.Error(), line, msg)
				}
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestParseAccountValid(t *testing.T) {
	data := `# comment
jid = "Alice@Example.NET"
password_command = "pass show xmpp"
resource = "laptop"
server = "127.0.0.1:5222"
tls = "direct"
priority = -5
status = "dnd"
status_message = "focus"
enabled = false
nick = "Alice"
`
	a, probs := ParseAccount("/cfg/accounts/work.toml", []byte(data))
	if len(probs) != 0 {
		t.Fatalf("unexpected problems: %v", probs)
	}
	if a.Name != "work" || a.JID.String() != "alice@example.net" || a.Resource != "laptop" ||
		a.Server != "127.0.0.1:5222" || a.TLS != TLSDirect || a.Priority != -5 || a.Status != "dnd" ||
		a.StatusMessage != "focus" || a.Enabled || a.Nick != "Alice" {
		t.Errorf("decoded %+v", a)
	}
}

func TestParseAccountDefaults(t *testing.T) {
	a, probs := ParseAccount("/x/a.toml", []byte("jid = \"a@example.net\"\npassword = \"p\"\n"))
	if len(probs) != 0 {
		t.Fatal(probs)
	}
	if a.TLS != TLSStartTLS || a.Status != "online" || !a.Enabled || a.Priority != 0 || a.PingInterval != 60*time.Second ||
		a.MaxMessageSize != 65536 || a.OMEMO || a.OMEMOTrust != OMEMOTrustBlind || a.OMEMOPolicy != OMEMOPolicyAuto {
		t.Errorf("defaults wrong: %+v", a)
	}
	a, probs = ParseAccount("/x/a.toml", []byte("jid = \"a@example.net\"\npassword = \"p\"\nomemo = true\nomemo_policy = \"manual\"\n"))
	if len(probs) != 0 || !a.OMEMO || a.OMEMOPolicy != OMEMOPolicyManual {
		t.Errorf("omemo_policy = \"manual\": %q %v", a.OMEMOPolicy, probs)
	}
	a, probs = ParseAccount("/x/a.toml", []byte("jid = \"a@example.net\"\npassword = \"p\"\nallow_plain_with_pinned = true\n"))
	if len(probs) > 0 || !a.AllowPlainWithPinned {
		t.Errorf("allow_plain_with_pinned = true: %v %v", a.AllowPlainWithPinned, probs)
	}
	a, probs = ParseAccount("/x/a.toml", []byte("jid = \"a@example.net\"\npassword = \"p\"\nmax_message_size = 200000\n"))
	if len(probs) != 0 || a.MaxMessageSize != 200000 {
		t.Errorf("max_message_size = 200000: %d %v", a.MaxMessageSize, probs)
	}
}

func TestPasswordFileModeRefused(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "a.toml")
	if err := os.WriteFile(f, []byte("jid = \"a@example.net\"\npassword = \"p\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, probs := LoadAccount(f)
	if len(probs) != 1 || !strings.Contains(probs[0].Msg, "chmod 600 "+f) {
		t.Fatalf("want a chmod 600 problem, got %v", probs)
	}
	if err := os.Chmod(f, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, probs := LoadAccount(f); len(probs) != 0 {
		t.Fatalf("0600 file refused: %v", probs)
	}
	// A password_command file may be readable by others: it holds no secret.
	g := filepath.Join(dir, "b.toml")
	os.WriteFile(g, []byte("jid = \"b@example.net\"\npassword_command = \"echo p\"\n"), 0o644)
	if _, probs := LoadAccount(g); len(probs) != 0 {
		t.Fatalf("password_command file refused: %v", probs)
	}
}

func TestSecret(t *testing.T) {
	a := &Account{Name: "a", PasswordCommand: "printf 's3cret\\nsecond line\\n'"}
	got, err := a.Secret(context.Background())
	if err != nil || got != "s3cret" {
		t.Fatalf("Secret = %q, %v", got, err)
	}
	a.PasswordCommand = "echo leaked-output; exit 3"
	_, err = a.Secret(context.Background())
	if err == nil || strings.Contains(err.Error(), "leaked-output") {
		t.Fatalf("failing command: err = %v (must fail and not echo output)", err)
	}
	a.PasswordCommand = "true"
	if _, err := a.Secret(context.Background()); err == nil {
		t.Fatal("empty output accepted")
	}
	a = &Account{Password: "plain"}
	if got, _ := a.Secret(context.Background()); got != "plain" {
		t.Fatalf("password = %q", got)
	}
}

func TestLoadAccountsCollectsEveryFile(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "accounts"), 0o700)
	os.WriteFile(filepath.Join(dir, "accounts", "good.toml"), []byte("jid = \"a@example.net\"\npassword = \"p\"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "accounts", "bad.toml"), []byte("jid = \"a@example.net\"\npasword = \"p\"\n"), 0o600)
	accts, probs := LoadAccounts(dir)
	if len(accts) != 1 || accts[0].Name != "good" {
		t.Fatalf("accounts = %v", accts)
	}
	if len(probs) != 2 || !strings.HasSuffix(probs[0].File, "bad.toml") || probs[0].Line != 2 {
		t.Fatalf("problems = %v", probs)
	}
}

// A file that makes gab run a command must not be writable by anyone but
// its owner: whoever can change it can run anything as you.
func TestCommandFileWritableByOthersRefused(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "a.toml")
	if err := os.WriteFile(f, []byte("jid = \"a@example.net\"\n\npassword_command = \"pass show xmpp\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o666, 0o620, 0o602} {
		os.Chmod(f, mode)
		_, probs := LoadAccount(f)
		if len(probs) != 1 || probs[0].Line != 3 || !strings.Contains(probs[0].Msg, "password_command") || !strings.Contains(probs[0].Msg, "chmod go-w "+f) {
			t.Fatalf("mode %04o: want a chmod go-w problem at line 3, got %v", mode, probs)
		}
	}
	for _, mode := range []os.FileMode{0o644, 0o600, 0o444} {
		os.Chmod(f, mode)
		if _, probs := LoadAccount(f); len(probs) != 0 {
			t.Fatalf("mode %04o refused: %v", mode, probs)
		}
	}
}

func TestShareVersion(t *testing.T) {
	a, probs := ParseAccount("a.toml", []byte("jid = \"a@example.net\"\npassword_command = \"x\"\n"))
	if len(probs) != 0 || a.ShareVersion != ShareVersionContacts {
		t.Fatalf("default %q %v", a.ShareVersion, probs)
	}
	a, probs = ParseAccount("a.toml", []byte("jid = \"a@example.net\"\npassword_command = \"x\"\nshare_version = \"everyone\"\n"))
	if len(probs) != 0 || a.ShareVersion != ShareVersionEveryone {
		t.Fatalf("everyone: %q %v", a.ShareVersion, probs)
	}
	_, probs = ParseAccount("a.toml", []byte("jid = \"a@example.net\"\npassword_command = \"x\"\nshare_version = \"friends\"\n"))
	if len(probs) != 1 || probs[0].Line != 3 || !strings.Contains(probs[0].Msg, `"friends" is not one of "contacts", "everyone" or "self"`) {
		t.Fatalf("bad value: %v", probs)
	}
}
