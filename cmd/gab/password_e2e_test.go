package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gab-chat/gab/internal/xmpptest"
)

// A wrong password in the account file: gab says so and waits; F4 opens a
// masked field, the password typed there logs in, and it shows nowhere —
// not on screen, not in the XML log.
func TestEndToEndTypedPasswordAfterWrongOne(t *testing.T) {
	const secret = "Tr1cky-Secret-42"
	bin := buildGab(t)
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "me", secret)
	cfg, data := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(cfg, "accounts"), 0o700)
	os.WriteFile(filepath.Join(cfg, "accounts", "me.toml"), []byte(fmt.Sprintf(
		"jid = \"me@localhost\"\npassword = \"wrong\"\nserver = %q\nca_file = %q\n", srv.Addr(), srv.CAFile)), 0o600)
	xmlLog := filepath.Join(t.TempDir(), "xml.log")
	exit := filepath.Join(t.TempDir(), "exit")
	tm := startTmux(t, fmt.Sprintf("%s --config %s --data %s --xml-log %s; echo $? > %s; sleep 30", bin, cfg, data, xmlLog, exit))
	tm.resize(100, 30)
	tm.waitFor("not-authorized", "1 password · F4 to answer")
	tm.openNotice("could not log in", "password for account me")
	tm.waitFor("could not log in", "Password")
	tm.text(secret)
	tm.waitFor("Password " + strings.Repeat("*", len(secret)))
	if s := tm.screen(); strings.Contains(s, secret) {
		t.Fatalf("the password is on the screen:\n%s", s)
	}
	tm.keys("Enter")
	tm.waitFor("connected as me@localhost/gab")
	if s := tm.screen(); strings.Contains(s, secret) || strings.Contains(s, "· F4 to answer") {
		t.Fatalf("after logging in:\n%s", s)
	}
	tm.quit(exit)
	log, err := os.ReadFile(xmlLog)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "me@localhost/gab") || strings.Contains(string(log), secret) {
		t.Fatalf("the XML log (%d bytes) shows no login, or shows the password", len(log))
	}
}

// An account that logged in once with a certificate its ca_file vouches
// for is never offered to trust one that no authority signed: here the
// same server, once ca_file is gone, is refused as a possible interception
// and no certificate waits for an answer.
func TestEndToEndNoTrustOfferAfterAuthority(t *testing.T) {
	bin := buildGab(t)
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "me", "pw")
	cfg, data := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(cfg, "accounts"), 0o700)
	file := filepath.Join(cfg, "accounts", "me.toml")
	os.WriteFile(file, []byte(fmt.Sprintf("jid = \"me@localhost\"\npassword_command = \"echo pw\"\nserver = %q\nca_file = %q\n", srv.Addr(), srv.CAFile)), 0o600)
	exit := filepath.Join(t.TempDir(), "exit")
	tm := startTmux(t, fmt.Sprintf("%s --config %s --data %s; echo $? > %s; sleep 30", bin, cfg, data, exit))
	tm.resize(100, 30)
	tm.waitFor("connected as me@localhost/gab")
	tm.quit(exit)
	marker := filepath.Join(data, "me.ca-verified")
	if st, err := os.Stat(marker); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("marker: %v %v", st, err)
	}

	os.WriteFile(file, []byte(fmt.Sprintf("jid = \"me@localhost\"\npassword_command = \"echo pw\"\nserver = %q\n", srv.Addr())), 0o600)
	exit2 := filepath.Join(t.TempDir(), "exit")
	tm2 := startTmux(t, fmt.Sprintf("%s --config %s --data %s; echo $? > %s; sleep 30", bin, cfg, data, exit2))
	tm2.resize(100, 30)
	tm2.waitFor("possible interception, refusing to connect", "is NOT signed by an")
	// A sentinel after the refusal: /requests says nothing waits.
	tm2.text("/requests")
	tm2.keys("Enter")
	s := tm2.waitFor("nothing waits for your answer")
	if strings.Contains(s, "1 certificate") || strings.Contains(s, "Untrusted certificate") {
		t.Fatalf("a certificate was offered:\n%s", s)
	}
	tm2.quit(exit2)
}
