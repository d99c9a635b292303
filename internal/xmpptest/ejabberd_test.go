package xmpptest

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// gone reports whether pid has exited (a zombie waiting to be reaped
// counts as gone).
func gone(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i > 0 && strings.HasPrefix(strings.TrimSpace(string(stat[i+1:])), "Z")
}

// ejabberd starts on its own ports, answers XMPP, takes accounts, and
// stops cleanly: its Erlang VM exits and the port closes.
func TestEjabberdStartsAndStops(t *testing.T) {
	srv := StartEjabberd(t, EjabberdOptions{})
	if jid := srv.Register(t, "alice", "pw"); jid != "alice@localhost" {
		t.Fatalf("registered %s", jid)
	}
	if err := srv.RegisterUser("alice", "pw"); err == nil {
		t.Error("registering the same user twice succeeded")
	}
	c, err := net.DialTimeout("tcp", srv.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte(`<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`))
	buf := make([]byte, 4096)
	n, _ := c.Read(buf)
	c.Close()
	if !strings.Contains(string(buf[:n]), "stream:stream") {
		t.Fatalf("no stream header from ejabberd: %q", buf[:n])
	}
	vm := childrenOf(srv.cmd.Process.Pid)
	if len(vm) == 0 {
		t.Fatal("no Erlang VM under ejabberdctl")
	}
	srv.Stop()
	for _, pid := range vm {
		if !gone(pid) {
			t.Errorf("process %d still runs after Stop", pid)
		}
	}
	if c, err := net.DialTimeout("tcp", srv.Addr(), time.Second); err == nil {
		c.Close()
		t.Error("the client port still accepts connections after Stop")
	}
}
