// ejabberd 23.01 (Debian) as a second server for the tests, with rooms.
//
// Besides the account modules (roster, carbons, mod_mam with every
// message archived, stream management, offline, blocking, ping, caps,
// disco, private storage, vCard), the configuration has:
//
//   - mod_pubsub with the flat and pep plugins: PEP (ejabberd has no
//     mod_pep) with publish-options;
//   - mod_private, which in 23.01 converts bookmarks by XEP-0411 (the
//     account advertises urn:xmpp:bookmarks-conversion:0): XEP-0048 in
//     private storage and the PEP node storage:bookmarks (item "current")
//     are one list, written either way. There is no XEP-0402 mirror (no
//     urn:xmpp:bookmarks:1#compat), and of XEP-0402's publish-options it
//     refuses pubsub#max_items and pubsub#send_last_published_item
//     (resource-constraint, "Unknown field").
//   - mod_muc on conference.localhost (MUCService, as with Prosody): rooms
//     created by local users only, every room archived (default room
//     option mam; mod_mam holds the archives), history of 20 messages.
//
// ejabberd logs no line per module: each loads its Mnesia tables
// ("Creating Mnesia ... table 'muc_room'", 'archive_msg', 'pubsub_node',
// 'private_storage'), and a module that fails logs [error] or [critical];
// the room tests fail on those, and check the modules through disco#info.
//
// Facts checked against that server (ejabberd_muc_test.go holds them), and
// how they differ from Prosody 0.12 (muc.go):
//
//   - No occupant-id (XEP-0421 came in ejabberd 23.10): none in presence,
//     messages or archive, and no urn:xmpp:occupant-id:0 feature. A client
//     tells its own messages by nick alone.
//   - Stanza ids (XEP-0359): every groupchat message has <stanza-id
//     by='ROOM JID'/> (and ejabberd's old <archived/> beside it); the
//     reflection keeps the sender's id and origin-id. Rooms advertise
//     urn:xmpp:sid:0 and urn:xmpp:mam:0/1/2; the service does too.
//   - A new room: the creator's self-presence has 201 and 110, owner,
//     moderator. Unlike Prosody the room is not locked: others may join
//     before the owner submits the configuration form.
//   - Joining: first a presence from the room's bare JID carrying its
//     entity caps (no muc#user element), then the other occupants, then
//     ours (110), then the history (each with <delay from='ROOM JID'/>
//     and its stanza-id) and last an empty <subject/> from the bare room
//     JID. <history maxstanzas='0'/> is honoured.
//   - The archive (XEP-0313, iq to the room JID, readable by anyone in an
//     open room): a result's id is the live message's stanza-id, and unlike
//     Prosody the archived copy carries that stanza-id too. The delay of
//     a result is from the service (conference.localhost), not the room,
//     and its stamp has microseconds (Prosody: whole seconds). <fin/> has
//     complete='true' and an RSM count.
//   - Refusals of a join, as with Prosody: a missing or wrong password
//     not-authorized (auth), members-only registration-required (auth),
//     nick in use conflict (cancel); each with a text. A password protects
//     a room only with muc#roomconfig_passwordprotectedroom on (Prosody's
//     form has no such field); the peer sets it where the form offers it.
//   - Kick: the room's bare JID first sends an unavailable presence (for
//     its caps), then ours with 110 and 307, the reason and <actor nick/>.
//   - A private message through the room is type chat, has an empty
//     muc#user <x/>, and gets a stanza-id of the receiver's own archive.

package xmpptest

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// XMPPServer is what tests need from any server they log in to, Prosody or
// ejabberd: where to connect, which certificate to trust, accounts.
type XMPPServer interface {
	Name() string // "prosody" or "ejabberd", for test names and logs
	Addr() string // STARTTLS client port as host:port
	CertPool(t testing.TB) *x509.CertPool
	CertFile() string // the PEM CertPool trusts, for clients that take a file
	Register(t testing.TB, user, pass string) string
}

var (
	_ XMPPServer = (*Server)(nil)
	_ XMPPServer = (*Ejabberd)(nil)
)

// Name is "prosody".
func (s *Server) Name() string { return "prosody" }

// CertFile is the PEM of Prosody's self-signed certificate.
func (s *Server) CertFile() string { return s.CAFile }

// EjabberdOptions change the ejabberd a test gets.
type EjabberdOptions struct {
	// Extra is appended to ejabberd.yml (top-level options).
	Extra string
}

// Ejabberd is one ejabberd process on 127.0.0.1 with its own directory,
// Erlang node name, cookie and distribution port, so several run at once.
// It runs as the system user "ejabberd", as Debian's package expects.
type Ejabberd struct {
	Dir      string
	Port     int    // c2s, STARTTLS required
	HTTPPort int    // mod_http_api, used to register accounts
	CAFile   string // PEM of the self-signed certificate, to trust in tests
	cmd      *exec.Cmd
	exited   chan struct{}
}

// EjabberdInstalled reports whether ejabberd can be run here.
func EjabberdInstalled() error {
	if _, err := ejabberdctl(); err != nil {
		return fmt.Errorf("ejabberdctl is not installed; `make test` installs it (apt-get install ejabberd)")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		return fmt.Errorf("setpriv is not installed (util-linux): %v", err)
	}
	if _, err := user.Lookup("ejabberd"); err != nil {
		return fmt.Errorf("no ejabberd system user; `make test` installs the package (apt-get install ejabberd): %v", err)
	}
	return nil
}

// StartEjabberd runs a fresh ejabberd for the test and stops it when the
// test ends. It fails the test — never skips — when ejabberd is missing.
func StartEjabberd(t testing.TB, opts EjabberdOptions) *Ejabberd {
	t.Helper()
	if err := EjabberdInstalled(); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "gab-ejabberd-")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewEjabberd(dir, opts)
	t.Cleanup(func() {
		if s != nil {
			s.Stop()
			if t.Failed() {
				log := s.Log()
				if len(log) > 4000 {
					log = "…" + log[len(log)-4000:]
				}
				t.Logf("ejabberd log:\n%s", log)
			}
		}
		os.RemoveAll(dir)
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// NewEjabberd writes a configuration and certificate into dir and starts
// ejabberd on free loopback ports. The caller stops it. Every directory on
// the way to dir must be traversable by the ejabberd user.
func NewEjabberd(dir string, opts EjabberdOptions) (*Ejabberd, error) {
	if err := EjabberdInstalled(); err != nil {
		return nil, err
	}
	u, err := user.Lookup("ejabberd")
	if err != nil {
		return nil, err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	s := &Ejabberd{Dir: dir}
	etc, logs, spool := filepath.Join(dir, "etc"), filepath.Join(dir, "logs"), filepath.Join(dir, "spool")
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	for _, d := range []string{etc, logs, spool} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{logs, spool} {
		if err := os.Chown(d, uid, gid); err != nil {
			return nil, fmt.Errorf("ejabberd runs as its own user: %w", err)
		}
	}
	if err := writeCert(dir); err != nil {
		return nil, err
	}
	s.CAFile = filepath.Join(dir, "localhost.crt")
	// ejabberd wants certificate and key in one file, readable by its group.
	crt, _ := os.ReadFile(s.CAFile)
	key, _ := os.ReadFile(filepath.Join(dir, "localhost.key"))
	pem := filepath.Join(etc, "server.pem")
	if err := os.WriteFile(pem, append(crt, key...), 0o640); err != nil {
		return nil, err
	}
	if err := os.Chown(pem, 0, gid); err != nil {
		return nil, err
	}
	inetrc, err := os.ReadFile("/etc/ejabberd/inetrc")
	if err != nil {
		inetrc = []byte("{lookup,[file,native]}.\n{host,{127,0,0,1}, [\"localhost\"]}.\n{file, resolv, \"/etc/resolv.conf\"}.\n")
	}
	if err := os.WriteFile(filepath.Join(etc, "inetrc"), inetrc, 0o644); err != nil {
		return nil, err
	}
	ports := make([]int, 3)
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return nil, err
		}
	}
	s.Port, s.HTTPPort = ports[0], ports[1]
	ctl := fmt.Sprintf(`ERLANG_NODE=ej%[1]d@localhost
ERL_DIST_PORT=%[2]d
ERL_OPTIONS="-setcookie gab%[1]d%[3]d -env ERL_CRASH_DUMP_BYTES 0"
EJABBERD_BYPASS_WARNINGS=true
EJABBERD_CONFIG_PATH=%[4]s
EJABBERD_PID_PATH=%[5]s
`, s.Port, ports[2], time.Now().UnixNano()%1e9, filepath.Join(etc, "ejabberd.yml"), filepath.Join(spool, "ejabberd.pid"))
	if err := os.WriteFile(filepath.Join(etc, "ejabberdctl.cfg"), []byte(ctl), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(etc, "ejabberd.yml"), []byte(s.config(pem, opts)), 0o644); err != nil {
		return nil, err
	}
	return s, s.run()
}

func (s *Ejabberd) config(pem string, o EjabberdOptions) string {
	return fmt.Sprintf(`hosts: [localhost]
loglevel: info
certfiles: [%[1]q]
auth_method: [internal]
# Stored in the clear, so every SCRAM variant (SHA-1/256/512, -PLUS) is offered.
auth_password_format: plain
shaper:
  fast: 100000000
shaper_rules:
  c2s_shaper: fast
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
api_permissions:
  "test harness":
    from: [mod_http_api]
    who:
      ip: 127.0.0.1/8
    what: ["register"]
listen:
  - port: %[2]d
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls_required: true
    max_stanza_size: 262144
    shaper: c2s_shaper
    access: all
  - port: %[3]d
    ip: "127.0.0.1"
    module: ejabberd_http
    request_handlers:
      /api: mod_http_api
modules:
  mod_roster: {versioning: true}
  mod_carboncopy: {}
  mod_mam: {default: always}
  mod_stream_mgmt: {resume_timeout: 60}
  mod_offline: {}
  mod_privacy: {}
  mod_blocking: {}
  mod_ping: {}
  mod_caps: {}
  mod_disco: {}
  mod_pubsub: {plugins: [flat, pep]}
  mod_muc:
    host: %[5]s
    access_create: local
    access_mam: all
    history_size: 20
    max_user_conferences: 100
    default_room_options:
      mam: true
  mod_private: {}
  mod_vcard: {}
  mod_http_api: {}
%[4]s
`, pem, s.Port, s.HTTPPort, o.Extra, MUCService)
}

// ejabberdctl finds the control script: on PATH, or in /usr/sbin, which is
// not on every user's PATH.
func ejabberdctl() (string, error) {
	if p, err := exec.LookPath("ejabberdctl"); err == nil {
		return p, nil
	}
	return exec.LookPath("/usr/sbin/ejabberdctl")
}

func (s *Ejabberd) ctlArgs(cmd ...string) []string {
	ctl, _ := ejabberdctl()
	return append([]string{"--reuid=ejabberd", "--regid=ejabberd", "--init-groups",
		ctl, "--config-dir", filepath.Join(s.Dir, "etc"),
		"--logs", filepath.Join(s.Dir, "logs"), "--spool", filepath.Join(s.Dir, "spool")}, cmd...)
}

// run starts ejabberd in the foreground, as the ejabberd user (setpriv
// rather than the su that ejabberdctl would use as root, so the server is
// our own child and stops with a signal), and waits until both its ports
// accept connections.
func (s *Ejabberd) run() error {
	cmd := exec.Command("setpriv", s.ctlArgs("foreground")...)
	cmd.Dir = s.Dir
	out, err := os.OpenFile(filepath.Join(s.Dir, "ejabberd.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("start ejabberd: %w", err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func() { cmd.Wait(); out.Close(); close(s.exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for _, addr := range []string{s.Addr(), net.JoinHostPort("127.0.0.1", strconv.Itoa(s.HTTPPort))} {
		for {
			select {
			case <-s.exited:
				return fmt.Errorf("ejabberd exited at start:\n%s", s.Log())
			default:
			}
			if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("ejabberd did not open %s within 60 s:\n%s", addr, s.Log())
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
	return nil
}

// Name is "ejabberd".
func (s *Ejabberd) Name() string { return "ejabberd" }

// Addr is the STARTTLS client port as host:port.
func (s *Ejabberd) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// CertFile is the PEM of ejabberd's self-signed certificate.
func (s *Ejabberd) CertFile() string { return s.CAFile }

// MUCService returns the JID of ejabberd's group chat service (mod_muc).
func (s *Ejabberd) MUCService() string { return MUCService }

// CertPool returns a pool trusting only the server's certificate.
func (s *Ejabberd) CertPool(t testing.TB) *x509.CertPool {
	t.Helper()
	return certPool(t, s.CAFile)
}

// Stop shuts ejabberd down cleanly (SIGTERM to the Erlang VM, which then
// closes its client connections) and waits for it; past 15 s it is killed.
func (s *Ejabberd) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	// ejabberdctl runs the VM as its child: signal the VM, and the script
	// ends with it.
	pids := childrenOf(s.cmd.Process.Pid)
	if len(pids) == 0 {
		pids = []int{s.cmd.Process.Pid}
	}
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGTERM)
	}
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		<-s.exited
	}
	s.cmd = nil
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err == nil {
		var out []int
		for _, f := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
		return out
	}
	// Without that file, scan /proc for the parent field.
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, n)
		}
	}
	return out
}

// Log returns ejabberd's log, for failure messages.
func (s *Ejabberd) Log() string {
	a, _ := os.ReadFile(filepath.Join(s.Dir, "logs", "ejabberd.log"))
	b, _ := os.ReadFile(filepath.Join(s.Dir, "ejabberd.out"))
	return string(a) + string(b)
}

// Register creates user@localhost with password pass.
func (s *Ejabberd) Register(t testing.TB, user, pass string) string {
	t.Helper()
	if err := s.RegisterUser(user, pass); err != nil {
		t.Fatal(err)
	}
	return user + "@" + Domain
}

// RegisterUser creates user@localhost through ejabberd's HTTP API (a
// fraction of the time an ejabberdctl call takes to start its own node).
func (s *Ejabberd) RegisterUser(user, pass string) error {
	body, _ := json.Marshal(map[string]string{"user": user, "host": Domain, "password": pass})
	url := fmt.Sprintf("http://127.0.0.1:%d/api/register", s.HTTPPort)
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("register %s: %w", user, err)
	}
	defer resp.Body.Close()
	var msg bytes.Buffer
	msg.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("register %s: HTTP %d: %s", user, resp.StatusCode, msg.String())
	}
	return nil
}
