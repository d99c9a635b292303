package xmpptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Domain is the virtual host every test server serves.
const Domain = "localhost"

// Options change the server a test gets.
type Options struct {
	NoMAM bool // leave mod_mam out (throughput tests)
	// MUC adds the group chat service MUCService (XEP-0045, with room
	// archives, occupant ids and moderation) and XEP-0402 bookmarks on
	// the virtual host; see muc.go for what each gives.
	MUC bool
	// Extra is appended to the global section of the configuration.
	Extra string
	// SQLArchive keeps message archives in SQLite (Prosody's mod_storage_sql,
	// through lua-dbi-sqlite3) instead of its internal files, which it
	// reads whole for every archive query: a page of a 50,000-message
	// archive then costs seconds, and catching up on it an hour.
	SQLArchive bool
	// Upload adds the HTTP File Upload service UploadService (XEP-0363,
	// mod_http_file_share) on loopback HTTPS; see upload.go.
	Upload bool
	// UploadLimit is the largest file the upload service takes, in bytes;
	// 0 means DefaultUploadLimit.
	UploadLimit int64
}

// Server is one Prosody process on 127.0.0.1 with its own directory.
type Server struct {
	Dir     string
	Config  string
	Port    int
	TLSPort int    // direct TLS (XEP-0368) client port
	CAFile  string // PEM of the self-signed certificate, to trust in tests
	// HTTPSPort serves the upload service (Options.Upload), 0 without.
	HTTPSPort int
	cmd       *exec.Cmd
	exited    chan struct{}
}

// Installed reports whether Prosody can be run here.
func Installed() error {
	for _, bin := range []string{"prosody", "prosodyctl"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s is not installed; `make test` installs it (apt-get install prosody lua-unbound)", bin)
		}
	}
	return nil
}

// Require fails t when Prosody is not installed: tests that need a server
// never skip silently.
func Require(t testing.TB) {
	t.Helper()
	if err := Installed(); err != nil {
		t.Fatal(err)
	}
}

// Start runs a fresh Prosody for the test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	Require(t)
	s, err := NewServer(t.TempDir(), opts)
	if s != nil {
		t.Cleanup(func() {
			s.Stop()
			if t.Failed() {
				log := s.Log()
				if len(log) > 4000 {
					log = "…" + log[len(log)-4000:]
				}
				t.Logf("prosody log:\n%s", log)
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// NewServer writes a configuration and certificate into dir and starts
// Prosody on a free loopback port. The caller stops it.
func NewServer(dir string, opts Options) (*Server, error) {
	if err := Installed(); err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, Config: filepath.Join(dir, "prosody.cfg.lua")}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		return nil, err
	}
	if err := writeCert(dir); err != nil {
		return nil, err
	}
	s.CAFile = filepath.Join(dir, "localhost.crt")
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s.Port = port
	if s.TLSPort, err = freePort(); err != nil {
		return nil, err
	}
	if opts.Upload {
		if s.HTTPSPort, err = freePort(); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(s.Config, []byte(s.config(opts)), 0o600); err != nil {
		return nil, err
	}
	return s, s.Run()
}

// Addr is the STARTTLS client port as host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// TLSAddr is the direct-TLS client port as host:port.
func (s *Server) TLSAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.TLSPort)) }

func (s *Server) config(o Options) string {
	mods := []string{"roster", "saslauth", "tls", "disco", "ping", "blocklist", "carbons",
		"smacks", "offline", "vcard_legacy", "vcard4", "pep", "private", "version", "posix"}
	if !o.NoMAM {
		mods = append(mods, "mam")
	}
	upGlobal, upComponent := s.uploadConfig(o)
	q := func(xs []string) string {
		for i, x := range xs {
			xs[i] = strconv.Quote(x)
		}
		return strings.Join(xs, "; ")
	}
	return fmt.Sprintf(`run_as_root = true
pidfile = %[1]q
data_path = %[2]q
interfaces = { "127.0.0.1" }
c2s_ports = { %[3]d }
c2s_direct_tls_ports = { %[9]d }
s2s_ports = { }
modules_enabled = { %[4]s }
modules_disabled = { "s2s"; "s2s_auth_certs"; "dialback" }
authentication = "internal_hashed"
storage = %[11]s
default_archive_policy = true
storage_archive_item_limit = 1000000
c2s_require_encryption = true
allow_unencrypted_plain_auth = false
smacks_hibernation_time = 60
ssl = { certificate = %[5]q; key = %[6]q }
certificates = %[10]q
log = { { levels = { min = "info" }, to = "file", filename = %[7]q } }
%[12]s%[8]s
VirtualHost "localhost"
`, filepath.Join(s.Dir, "prosody.pid"), filepath.Join(s.Dir, "data"), s.Port, q(mods),
		filepath.Join(s.Dir, "localhost.crt"), filepath.Join(s.Dir, "localhost.key"),
		filepath.Join(s.Dir, "prosody.log"), o.Extra, s.TLSPort, s.Dir, storage(o, s.Dir), upGlobal) + mucConfig(o) + upComponent
}

// storage is the configuration's storage setting, and the SQL database's
// where archives are kept in SQLite.
func storage(o Options, dir string) string {
	if !o.SQLArchive {
		return `"internal"`
	}
	return fmt.Sprintf(`{ archive = "sql"; muc_log = "sql" }
sql = { driver = "SQLite3"; database = %q }`, filepath.Join(dir, "prosody.sqlite"))
}

// Run starts the server process and waits until its port accepts
// connections. It may be called again after Stop or Kill.
func (s *Server) Run() error {
	cmd := exec.Command("prosody", "--config", s.Config, "-F")
	out, err := os.OpenFile(filepath.Join(s.Dir, "prosody.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("start prosody: %w", err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func() { cmd.Wait(); out.Close(); close(s.exited) }()
	limit := Timeout(RoundTrip)
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("prosody exited at start:\n%s", s.Log())
		default:
		}
		if c, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("prosody did not open port %d within %v:\n%s", s.Port, limit, s.Log())
}

// Pid is the server process's id, 0 when it is not running.
func (s *Server) Pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Stop ends the server with SIGTERM (clients get system-shutdown) and waits.
func (s *Server) Stop() { s.signal(syscall.SIGTERM) }

// Kill ends the server with SIGKILL: connections just break.
func (s *Server) Kill() { s.signal(syscall.SIGKILL) }

func (s *Server) signal(sig syscall.Signal) {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGCONT) // a paused server cannot act on SIGTERM
	s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// Pause stops the server process (SIGSTOP): connections stay open and
// silent, as with a hung server.
func (s *Server) Pause() {
	if s.cmd != nil {
		s.cmd.Process.Signal(syscall.SIGSTOP)
	}
}

// Resume continues a paused server.
func (s *Server) Resume() {
	if s.cmd != nil {
		s.cmd.Process.Signal(syscall.SIGCONT)
	}
}

// Log returns the server's log, for failure messages.
func (s *Server) Log() string {
	a, _ := os.ReadFile(filepath.Join(s.Dir, "prosody.log"))
	b, _ := os.ReadFile(filepath.Join(s.Dir, "prosody.out"))
	return string(a) + string(b)
}

// Register creates user@localhost with password pass.
func (s *Server) Register(t testing.TB, user, pass string) string {
	t.Helper()
	if err := s.RegisterUser(user, pass); err != nil {
		t.Fatal(err)
	}
	return user + "@" + Domain
}

// RegisterUser creates user@localhost with password pass.
func (s *Server) RegisterUser(user, pass string) error {
	out, err := exec.Command("prosodyctl", "--config", s.Config, "register", user, Domain, pass).CombinedOutput()
	if err != nil {
		return fmt.Errorf("register %s: %v\n%s", user, err, out)
	}
	return nil
}

// RosterEntry is one contact written into a roster file before start.
type RosterEntry struct {
	JID          string
	Name         string
	Subscription string // none, to, from, both
	Groups       []string
}

// WriteRoster writes user's roster straight into Prosody's storage. Prosody
// caches rosters, so call it before the user first logs in.
func (s *Server) WriteRoster(user string, entries []RosterEntry) error {
	dir := filepath.Join(s.Dir, "data", Domain, "roster")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("return {\n[false] = { [\"version\"] = 1; [\"pending\"] = {}; };\n")
	for _, e := range entries {
		fmt.Fprintf(&b, "[%q] = { [\"subscription\"] = %q; [\"name\"] = %q; [\"groups\"] = {", e.JID, e.Subscription, e.Name)
		for _, g := range e.Groups {
			fmt.Fprintf(&b, " [%q] = true;", g)
		}
		b.WriteString(" }; };\n")
	}
	b.WriteString("}\n")
	return os.WriteFile(filepath.Join(dir, user+".dat"), []byte(b.String()), 0o600)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// writeCert makes a self-signed certificate for localhost that is its own
// CA, so clients can trust it through RootCAs without turning off checks.
func writeCert(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: Domain},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{Domain, MUCService, UploadService},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "localhost.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "localhost.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
}

// CertPool returns a pool trusting only the server's certificate.
func (s *Server) CertPool(t testing.TB) *x509.CertPool {
	t.Helper()
	return certPool(t, s.CAFile)
}

func certPool(t testing.TB, file string) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("bad CA file")
	}
	return pool
}
