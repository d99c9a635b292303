package history

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "o.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// omemoMigration is the index of the migration that added OMEMO state,
// found by what it does (migrations are renumbered as others are added).
func omemoMigration(t *testing.T) int {
	t.Helper()
	i := slices.IndexFunc(migrations, func(m string) bool { return strings.Contains(m, "CREATE TABLE omemo_sessions") })
	if i < 0 {
		t.Fatal("no migration adds OMEMO state")
	}
	return i
}

// A store of every earlier schema version opens: its messages read as
// not encrypted, its outbox is still the outbox (nothing kept to send
// again but the message), and OMEMO state can be kept. The database stays
// the user's alone.
func TestOMEMOUpgradeFromEveryVersion(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	ctx := context.Background()
	for version := 0; version < len(migrations); version++ {
		t.Run(fmt.Sprint("from ", version), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "old.db")
			db, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			for i, m := range migrations[:version] {
				if _, err := db.Exec(m); err != nil {
					t.Fatalf("migration %d: %v", i+1, err)
				}
			}
			if _, err := db.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, version)); err != nil {
				t.Fatal(err)
			}
			rows := 0
			if version >= 1 {
				if _, err := db.Exec(`INSERT INTO messages (peer, direction, from_jid, to_jid, body, ts, received) VALUES ('bob@x', 'in', 'bob@x/r', 'me@x', 'said before', 1, 1)`); err != nil {
					t.Fatal(err)
				}
				rows++
			}
			if version >= 2 {
				if _, err := db.Exec(`INSERT INTO messages (peer, direction, from_jid, to_jid, body, ts, received, origin_id, state) VALUES ('bob@x', 'out', 'me@x', 'bob@x', 'still to send', 2, 2, 'o1', 'pending')`); err != nil {
					t.Fatal(err)
				}
				rows++
			}
			db.Close()
			if version >= omemoMigration(t) {
				return // not an earlier version
			}
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var uv int
			if err := s.db.QueryRow(`PRAGMA user_version`).Scan(&uv); err != nil || uv != len(migrations) {
				t.Fatalf("schema version %d after opening, want %d (%v)", uv, len(migrations), err)
			}
			page, _, err := s.Before(ctx, Conv{Peer: "bob@x"}, 0, 10)
			if err != nil || len(page) != rows {
				t.Fatalf("%d rows read back, want %d: %v", len(page), rows, err)
			}
			for _, m := range page {
				if m.Encryption != 0 || m.Device != 0 || m.Trust != "" || m.Wire != "" {
					t.Errorf("an old row reads as encrypted: %+v", m)
				}
			}
			if version >= 2 {
				un, err := s.Unsent(ctx)
				if err != nil || len(un) != 1 || un[0].Body != "still to send" || un[0].Wire != "" {
					t.Fatalf("old outbox: %+v, %v", un, err)
				}
			}
			k := SessionKey{JID: "bob@x", Device: 7, Version: OMEMO03}
			if err := s.SaveSession(ctx, Session{SessionKey: k, State: []byte("state")}); err != nil {
				t.Fatal(err)
			}
			if got, ok, err := s.Session(ctx, k); err != nil || !ok || string(got) != "state" {
				t.Fatalf("session in the upgraded store: %q %v %v", got, ok, err)
			}
			if err := s.Check(ctx); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
					t.Errorf("%s after the upgrade: %v, %v; want mode 0600", filepath.Base(p), st.Mode().Perm(), err)
				}
			}
		})
	}
}

// The database holds our private keys once OMEMO state is in it: it and
// SQLite's companion files stay the user's alone.
func TestOMEMOStateIsPrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	s, path := openTemp(t)
	ctx := context.Background()
	if err := s.SaveOwnDevice(ctx, []byte("identity private key")); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(Batch{
		Messages: []*Message{{Peer: "bob@x", Direction: In, Body: "secret", Encryption: OMEMO2, Device: 5, Trust: TrustTrusted}},
		Sessions: []Session{{SessionKey: SessionKey{JID: "bob@x", Device: 5, Version: OMEMO2}, State: []byte("root key")}},
	}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", filepath.Base(p), st.Mode().Perm())
		}
	}
}

func TestOMEMOOwnDevice(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	if _, ok, err := s.OwnDevice(ctx); ok || err != nil {
		t.Fatalf("a device before any was saved: %v %v", ok, err)
	}
	if err := s.SaveOwnDevice(ctx, nil); err == nil {
		t.Fatal("empty key material saved")
	}
	if err := s.SaveOwnDevice(ctx, []byte("first")); err != nil {
		t.Fatal(err)
	}
	first, ok, err := s.OwnDevice(ctx)
	if err != nil || !ok || string(first.State) != "first" || first.Created.IsZero() || !first.Updated.Equal(first.Created) {
		t.Fatalf("after the first save: %+v %v %v", first, ok, err)
	}
	// Created is measured in microseconds: let the clock move on.
	for time.Now().UnixMicro() == first.Created.UnixMicro() {
		time.Sleep(time.Millisecond)
	}
	if err := s.SaveOwnDevice(ctx, []byte("second")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, ok, err := s2.OwnDevice(ctx)
	if err != nil || !ok || string(got.State) != "second" || !got.Created.Equal(first.Created) || !got.Updated.After(first.Updated) {
		t.Fatalf("after the second save and a restart: %+v %v %v (first %+v)", got, ok, err, first)
	}
}

func TestOMEMOSessions(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	save := func(jid string, dev uint32, v Version, state string) {
		t.Helper()
		if err := s.SaveSession(ctx, Session{SessionKey: SessionKey{JID: jid, Device: dev, Version: v}, State: []byte(state)}); err != nil {
			t.Fatal(err)
		}
	}
	save("bob@x", 9, OMEMO03, "b9")
	save("bob@x", 2, OMEMO03, "b2")
	save("bob@x", 2, OMEMO2, "b2 in 2")
	save("carol@x", 2, OMEMO03, "c2")
	save("bob@x", 2, OMEMO03, "b2 later") // replaces
	save("bob@x", maxDevice, OMEMO03, "highest")
	for _, k := range []SessionKey{
		{JID: "bob@x", Device: 0, Version: OMEMO03},
		{JID: "bob@x", Device: maxDevice + 1, Version: OMEMO03},
		{JID: "bob@x", Device: 1, Version: 0},
		{JID: "bob@x", Device: 1, Version: 3},
		{JID: "", Device: 1, Version: OMEMO03},
	} {
		if err := s.SaveSession(ctx, Session{SessionKey: k, State: []byte("x")}); err == nil {
			t.Errorf("session %+v saved", k)
		}
	}
	if err := s.SaveSession(ctx, Session{SessionKey: SessionKey{JID: "bob@x", Device: 3, Version: OMEMO03}}); err == nil {
		t.Error("a session without state saved")
	}
	s.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, ok, err := s.Session(ctx, SessionKey{JID: "bob@x", Device: 2, Version: OMEMO03})
	if err != nil || !ok || string(got) != "b2 later" {
		t.Fatalf("Session: %q %v %v", got, ok, err)
	}
	if _, ok, err := s.Session(ctx, SessionKey{JID: "bob@x", Device: 9, Version: OMEMO2}); ok || err != nil {
		t.Fatalf("a session in the other version: %v %v", ok, err)
	}
	all, err := s.Sessions(ctx, "bob@x", OMEMO03)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, se := range all {
		if se.JID != "bob@x" || se.Version != OMEMO03 {
			t.Errorf("session of another JID or version: %+v", se.SessionKey)
		}
		seen = append(seen, fmt.Sprintf("%d=%s", se.Device, se.State))
	}
	if want := []string{"2=b2 later", "9=b9", fmt.Sprintf("%d=highest", maxDevice)}; !slices.Equal(seen, want) {
		t.Fatalf("Sessions = %v, want %v", seen, want)
	}
	if err := s.DeleteSession(ctx, SessionKey{JID: "bob@x", Device: 9, Version: OMEMO03}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, SessionKey{JID: "bob@x", Device: 9, Version: OMEMO03}); err != nil {
		t.Fatalf("deleting a session that is gone: %v", err)
	}
	if _, ok, _ := s.Session(ctx, SessionKey{JID: "bob@x", Device: 9, Version: OMEMO03}); ok {
		t.Fatal("deleted session still there")
	}
	if _, ok, _ := s.Session(ctx, SessionKey{JID: "bob@x", Device: 2, Version: OMEMO2}); !ok {
		t.Fatal("deleting one session took another")
	}
}

func TestOMEMODeviceLists(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	list := func(at time.Time, ids ...uint32) DeviceListChange {
		t.Helper()
		var l []ListedDevice
		for _, id := range ids {
			l = append(l, ListedDevice{ID: id, Label: fmt.Sprint("phone ", id)})
		}
		ch, err := s.SaveDeviceList(ctx, "bob@x", OMEMO2, l, at)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	same := func(a, b []uint32) bool { return slices.Equal(a, b) || len(a)+len(b) == 0 }
	for _, c := range []struct {
		at            time.Time
		ids           []uint32
		added, gone   []uint32
		active, known []uint32
	}{
		{t0, []uint32{3, 1, 2, 1}, []uint32{1, 2, 3}, nil, []uint32{1, 2, 3}, []uint32{1, 2, 3}},
		{t1, []uint32{2, 3, 4}, []uint32{4}, []uint32{1}, []uint32{2, 3, 4}, []uint32{1, 2, 3, 4}},
		{t2, []uint32{1, 3, 4}, []uint32{1}, []uint32{2}, []uint32{1, 3, 4}, []uint32{1, 2, 3, 4}}, // 1 comes back
		{t2, []uint32{1, 3, 4}, nil, nil, []uint32{1, 3, 4}, []uint32{1, 2, 3, 4}},
	} {
		ch := list(c.at, c.ids...)
		if !same(ch.New, c.added) || !same(ch.Inactive, c.gone) {
			t.Fatalf("list %v: new %v, inactive %v; want %v, %v", c.ids, ch.New, ch.Inactive, c.added, c.gone)
		}
		devs, err := s.Devices(ctx, "bob@x", OMEMO2)
		if err != nil {
			t.Fatal(err)
		}
		var active, known []uint32
		for _, d := range devs {
			known = append(known, d.ID)
			if d.Active {
				active = append(active, d.ID)
			}
		}
		if !same(active, c.active) || !same(known, c.known) {
			t.Fatalf("after list %v: active %v, known %v; want %v, %v", c.ids, active, known, c.active, c.known)
		}
	}
	devs, _ := s.Devices(ctx, "bob@x", OMEMO2)
	d1, d2 := devs[0], devs[1]
	if !d1.FirstSeen.Equal(t0) || !d1.LastSeen.Equal(t2) || d1.Label != "phone 1" || d1.Identity != nil || d1.Trust != TrustUndecided {
		t.Errorf("device 1: %+v", d1)
	}
	if d2.Active || !d2.FirstSeen.Equal(t0) || !d2.LastSeen.Equal(t1) {
		t.Errorf("device 2, gone since t2, last listed at t1: %+v", d2)
	}
	// The versions' lists are apart: OMEMO 0.3 has none for bob yet.
	if d, err := s.Devices(ctx, "bob@x", OMEMO03); err != nil || len(d) != 0 {
		t.Fatalf("0.3 devices: %+v %v", d, err)
	}
	// A list with an impossible id changes nothing.
	if _, err := s.SaveDeviceList(ctx, "bob@x", OMEMO2, []ListedDevice{{ID: 5}, {ID: 0}}, t2); err == nil {
		t.Fatal("device id 0 accepted")
	}
	if _, err := s.SaveDeviceList(ctx, "bob@x", OMEMO2, []ListedDevice{{ID: 5}, {ID: maxDevice + 1}}, t2); err == nil {
		t.Fatal("device id 2^31 accepted")
	}
	if after, _ := s.Devices(ctx, "bob@x", OMEMO2); len(after) != 4 {
		t.Fatalf("a refused list changed the devices: %+v", after)
	}
	// An empty list: every device left.
	if ch := list(t2); len(ch.New) != 0 || !slices.Equal(ch.Inactive, []uint32{1, 3, 4}) {
		t.Fatalf("empty list: %+v", ch)
	}
	// Labels follow the list.
	if _, err := s.SaveDeviceList(ctx, "bob@x", OMEMO2, []ListedDevice{{ID: 1, Label: "laptop"}}, t2); err != nil {
		t.Fatal(err)
	}
	if devs, _ := s.Devices(ctx, "bob@x", OMEMO2); devs[0].Label != "laptop" {
		t.Fatalf("label %q", devs[0].Label)
	}
}

// A device list whose writing fails half-way changes nothing.
func TestOMEMODeviceListIsAtomic(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if _, err := s.SaveDeviceList(ctx, "bob@x", OMEMO03, []ListedDevice{{ID: 1}, {ID: 2}}, t0); err != nil {
		t.Fatal(err)
	}
	n := 0
	boom := errors.New("disk full")
	s.faultAt = func(step string) error {
		if step == "device" {
			if n++; n == 2 {
				return boom
			}
		}
		return nil
	}
	if _, err := s.SaveDeviceList(ctx, "bob@x", OMEMO03, []ListedDevice{{ID: 2}, {ID: 3}}, t0.Add(time.Hour)); !errors.Is(err, boom) {
		t.Fatalf("error %v, want the injected one", err)
	}
	if n != 2 {
		t.Fatalf("the failure was injected at step %d", n)
	}
	s.faultAt = nil
	devs, _ := s.Devices(ctx, "bob@x", OMEMO03)
	if len(devs) != 2 || !devs[0].Active || !devs[1].Active || !devs[1].LastSeen.Equal(t0) {
		t.Fatalf("after a failed save: %+v", devs)
	}
	// The same list saved again reports what it changes, as if the failed
	// one had never been.
	ch, err := s.SaveDeviceList(ctx, "bob@x", OMEMO03, []ListedDevice{{ID: 2}, {ID: 3}}, t0.Add(time.Hour))
	if err != nil || !slices.Equal(ch.New, []uint32{3}) || !slices.Equal(ch.Inactive, []uint32{1}) {
		t.Fatalf("saved again: %+v %v", ch, err)
	}
}

func TestOMEMOIdentityAndTrust(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	keyA, keyB := bytes.Repeat([]byte{0xa}, 33), bytes.Repeat([]byte{0xb}, 33)
	if _, err := s.SaveDeviceList(ctx, "bob@x", OMEMO03, []ListedDevice{{ID: 1}}, t0); err != nil {
		t.Fatal(err)
	}
	if prev, err := s.SetIdentity(ctx, "bob@x", OMEMO03, 1, keyA, t0); err != nil || prev != nil {
		t.Fatalf("first key: %x %v", prev, err)
	}
	if prev, err := s.SetIdentity(ctx, "bob@x", OMEMO03, 1, keyA, t0); err != nil || prev != nil {
		t.Fatalf("same key again: %x %v", prev, err)
	}
	if tr, at, err := s.TrustOf(ctx, "bob@x", keyA); err != nil || tr != TrustUndecided || !at.IsZero() {
		t.Fatalf("trust before any decision: %q %v %v", tr, at, err)
	}
	if err := s.SetTrust(ctx, "bob@x", keyA, TrustVerified, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Trust is per contact and key: the same key of somebody else is not
	// decided.
	if tr, _, _ := s.TrustOf(ctx, "carol@x", keyA); tr != TrustUndecided {
		t.Fatalf("carol's key trusted as %q", tr)
	}
	devs, _ := s.Devices(ctx, "bob@x", OMEMO03)
	if len(devs) != 1 || !bytes.Equal(devs[0].Identity, keyA) || devs[0].Trust != TrustVerified || !devs[0].Decided.Equal(t0.Add(time.Minute)) {
		t.Fatalf("device with a verified key: %+v", devs)
	}
	// The key changes under the same device id: recognised, and the new
	// key is undecided.
	prev, err := s.SetIdentity(ctx, "bob@x", OMEMO03, 1, keyB, t0.Add(time.Hour))
	if err != nil || !bytes.Equal(prev, keyA) {
		t.Fatalf("changed key: previous %x, %v; want %x", prev, err, keyA)
	}
	devs, _ = s.Devices(ctx, "bob@x", OMEMO03)
	if !bytes.Equal(devs[0].Identity, keyB) || devs[0].Trust != TrustUndecided || !devs[0].Decided.IsZero() {
		t.Fatalf("device after its key changed: %+v", devs[0])
	}
	if err := s.SetTrust(ctx, "bob@x", keyB, TrustDistrusted, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Trusts(ctx, "bob@x")
	if err != nil || len(ds) != 2 || !bytes.Equal(ds[0].Identity, keyA) || ds[0].Trust != TrustVerified || ds[1].Trust != TrustDistrusted {
		t.Fatalf("Trusts: %+v %v", ds, err)
	}
	// A device that wrote before any list named it is known, inactive.
	if prev, err := s.SetIdentity(ctx, "bob@x", OMEMO03, 77, keyA, t0); err != nil || prev != nil {
		t.Fatalf("unlisted device: %x %v", prev, err)
	}
	devs, _ = s.Devices(ctx, "bob@x", OMEMO03)
	if len(devs) != 2 || devs[1].ID != 77 || devs[1].Active || devs[1].Trust != TrustVerified {
		t.Fatalf("unlisted device: %+v", devs)
	}
	if ch, _ := s.SaveDeviceList(ctx, "bob@x", OMEMO03, []ListedDevice{{ID: 1}, {ID: 77}}, t0); !slices.Equal(ch.New, []uint32{77}) {
		t.Fatalf("an unlisted device listed is not new: %+v", ch)
	}
	for _, bad := range []struct {
		jid string
		key []byte
		t   Trust
	}{{"", keyA, TrustTrusted}, {"bob@x", nil, TrustTrusted}, {"bob@x", keyA, "maybe"}, {"bob@x", keyA, ""}} {
		if err := s.SetTrust(ctx, bad.jid, bad.key, bad.t, t0); err == nil {
			t.Errorf("SetTrust(%q, %x, %q) accepted", bad.jid, bad.key, bad.t)
		}
	}
	if _, err := s.SetIdentity(ctx, "bob@x", OMEMO03, 1, nil, t0); err == nil {
		t.Error("an empty identity key accepted")
	}
	if _, err := s.SetIdentity(ctx, "bob@x", OMEMO03, 0, keyA, t0); err == nil {
		t.Error("device 0 accepted")
	}
}

// Each stored message says whether it was encrypted, by which device and
// how trusted, wherever messages are read back; plaintext rows say they
// were not.
func TestOMEMOMarksOnMessages(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	msgs := []*Message{
		{Peer: "bob@x", Direction: In, Body: "plain words", StanzaID: "s1", Time: base},
		{Peer: "bob@x", Direction: In, Body: "secret words", StanzaID: "s2", Time: base.Add(time.Second), Encryption: OMEMO03, Device: 1234, Trust: TrustTrusted},
		{Peer: "bob@x", Direction: Out, Body: "reply words", OriginID: "o3", Time: base.Add(2 * time.Second), State: StateSent, Encryption: OMEMO2, Device: 99, Trust: TrustVerified},
		{Peer: "bob@x", Direction: In, Body: "doubtful words", StanzaID: "s4", Time: base.Add(3 * time.Second), Encryption: OMEMO2, Device: maxDevice, Trust: TrustUndecided},
	}
	if err := s.Append(msgs); err != nil {
		t.Fatal(err)
	}
	type mark struct {
		enc   Version
		dev   uint32
		trust Trust
	}
	want := map[string]mark{
		"plain words":    {},
		"secret words":   {OMEMO03, 1234, TrustTrusted},
		"reply words":    {OMEMO2, 99, TrustVerified},
		"doubtful words": {OMEMO2, maxDevice, TrustUndecided},
	}
	checkRows := func(how string, rows []Message, n int) {
		t.Helper()
		if len(rows) != n {
			t.Fatalf("%s: %d rows, want %d", how, len(rows), n)
		}
		for _, m := range rows {
			if got := (mark{m.Encryption, m.Device, m.Trust}); got != want[m.Body] {
				t.Errorf("%s: %q marked %+v, want %+v", how, m.Body, got, want[m.Body])
			}
		}
	}
	page, _, err := s.Before(ctx, Conv{Peer: "bob@x"}, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkRows("Before", page, 4)
	hits, err := s.Search(ctx, "words", Conv{Peer: "bob@x"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkRows("Search", hits, 4)
	around, _, err := s.Around(ctx, Conv{Peer: "bob@x"}, msgs[1].ID, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkRows("Around", around, 3)
	one, ok, err := s.Get(ctx, msgs[1].ID)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	checkRows("Get", []Message{one}, 1)
	last, _, _ := s.LastReceived(ctx, Conv{Peer: "bob@x"})
	checkRows("LastReceived", []Message{last}, 1)
	target, _, _ := s.Target(ctx, Conv{Peer: "bob@x"}, "o3")
	checkRows("Target", []Message{target}, 1)
	for _, bad := range []Message{
		{Peer: "bob@x", Direction: In, Encryption: 3, Device: 1, Trust: TrustTrusted},
		{Peer: "bob@x", Direction: In, Encryption: OMEMO03, Device: 1, Trust: "sure"},
		{Peer: "bob@x", Direction: In, Device: 1},           // a device without encryption
		{Peer: "bob@x", Direction: In, Trust: TrustTrusted}, // trust without encryption
		{Peer: "bob@x", Direction: In, Encryption: OMEMO2, Device: maxDevice + 1},
	} {
		m := bad
		if err := s.Append([]*Message{&m}); err == nil {
			t.Errorf("stored %+v", bad)
		}
	}
	if n, _ := s.Count(ctx); n != 4 {
		t.Fatalf("%d messages stored", n)
	}
}

// An encrypted message queued in the outbox keeps its encrypted element,
// with the sessions its encryption advanced, until it is sent: a resend,
// even after a restart, gets the same bytes back. Once the message leaves
// the outbox the element goes.
func TestOMEMOOutboxKeepsTheCiphertext(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	wire := func(n int) string {
		return fmt.Sprintf(`<encrypted xmlns="eu.siacs.conversations.axolotl"><header sid="42"><key rid="7">KEY%d</key><iv>IV</iv></header><payload>CIPHER%d</payload></encrypted>`, n, n)
	}
	bob7 := SessionKey{JID: "bob@x", Device: 7, Version: OMEMO03}
	var queued []*Message
	for i := 1; i <= 4; i++ {
		m := &Message{Peer: "bob@x", Direction: Out, Body: fmt.Sprint("secret ", i), OriginID: fmt.Sprint("o", i), State: StatePending,
			Encryption: OMEMO03, Device: 42, Trust: TrustTrusted, Wire: wire(i)}
		if err := s.Commit(Batch{Messages: []*Message{m}, Sessions: []Session{{SessionKey: bob7, State: []byte(fmt.Sprint("after ", i))}}}); err != nil {
			t.Fatal(err)
		}
		queued = append(queued, m)
	}
	plain := &Message{Peer: "bob@x", Direction: Out, Body: "plain", OriginID: "p", State: StatePending}
	if err := s.Append([]*Message{plain}); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := s.Session(ctx, bob7); string(st) != "after 4" {
		t.Fatalf("session %q", st)
	}
	// Reading history does not carry the elements about.
	page, _, _ := s.Before(ctx, Conv{Peer: "bob@x"}, 0, 10)
	for _, m := range page {
		if m.Wire != "" {
			t.Fatalf("a page carries an encrypted element: %+v", m)
		}
	}
	s.SetState(ctx, "o1", StateUnacked) // on the wire, not confirmed: still in the outbox
	s.SetState(ctx, "o2", StateSent)
	s.SetState(ctx, "o3", StateFailed)
	if _, err := s.Retract(ctx, queued[3].ID, Tombstone{}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	un, err := s.Unsent(ctx)
	if err != nil || len(un) != 2 {
		t.Fatalf("outbox after a restart: %+v %v", un, err)
	}
	if un[0].OriginID != "o1" || un[0].Wire != wire(1) || un[0].State != StateUnacked || un[0].Encryption != OMEMO03 || un[0].Device != 42 {
		t.Fatalf("encrypted message in the outbox: %+v", un[0])
	}
	if un[1].OriginID != "p" || un[1].Wire != "" || un[1].Encryption != 0 {
		t.Fatalf("plaintext message in the outbox: %+v", un[1])
	}
	// Only the unconfirmed message's element is still kept.
	var kept []int64
	rows, err := s.db.Query(`SELECT message FROM outbox_wire ORDER BY message`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		kept = append(kept, id)
	}
	rows.Close()
	if !slices.Equal(kept, []int64{queued[0].ID}) {
		t.Fatalf("elements kept for rows %v, want only %d", kept, queued[0].ID)
	}
	s.SetState(ctx, "o1", StateSent)
	if un, _ := s.Unsent(ctx); len(un) != 1 || un[0].OriginID != "p" {
		t.Fatalf("outbox: %+v", un)
	}
	var n int
	s.db.QueryRow(`SELECT count(*) FROM outbox_wire`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d elements kept after every message was sent", n)
	}
	// An element belongs to an encrypted message in the outbox only.
	for _, bad := range []Message{
		{Peer: "bob@x", Direction: In, Body: "x", Encryption: OMEMO03, Device: 7, Trust: TrustTrusted, Wire: wire(9)},
		{Peer: "bob@x", Direction: Out, Body: "x", State: StateSent, Encryption: OMEMO03, Device: 42, Trust: TrustTrusted, Wire: wire(9)},
		{Peer: "bob@x", Direction: Out, Body: "x", State: StatePending, Wire: wire(9)}, // not encrypted
	} {
		m := bad
		if err := s.Append([]*Message{&m}); err == nil {
			t.Errorf("element kept for %+v", bad)
		}
	}
}

// Messages, meta values, our device's key material and sessions given to
// Commit are written together or not at all, whichever step fails.
func TestOMEMOCommitIsAtomic(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	bob1 := SessionKey{JID: "bob@x", Device: 1, Version: OMEMO03}
	bob2 := SessionKey{JID: "bob@x", Device: 2, Version: OMEMO2}
	gone := SessionKey{JID: "bob@x", Device: 3, Version: OMEMO03}
	// What is there before.
	if err := s.Commit(Batch{
		Messages:  []*Message{{Peer: "bob@x", Direction: In, Body: "before", Encryption: OMEMO03, Device: 1, Trust: TrustTrusted}},
		Meta:      []MetaSet{{Key: "mam", Value: "A1"}},
		OwnDevice: []byte("device v1"),
		Sessions:  []Session{{SessionKey: bob1, State: []byte("bob1 v1")}, {SessionKey: gone, State: []byte("ending")}},
	}); err != nil {
		t.Fatal(err)
	}
	batch := func() Batch {
		return Batch{
			Messages: []*Message{
				{Peer: "bob@x", Direction: In, Body: "pre-key message", Encryption: OMEMO03, Device: 1, Trust: TrustTrusted},
				{Peer: "bob@x", Direction: Out, Body: "answer", OriginID: "o1", State: StatePending, Encryption: OMEMO2, Device: 9, Trust: TrustTrusted, Wire: "<encrypted/>"},
			},
			Meta:      []MetaSet{{Key: "mam", Value: "A2"}},
			OwnDevice: []byte("device v2"), // a one-time pre-key used up
			Sessions:  []Session{{SessionKey: bob1, State: []byte("bob1 v2")}, {SessionKey: bob2, State: []byte("bob2 v1")}},
			Ended:     []SessionKey{gone},
		}
	}
	type snapshot struct {
		msgs, wires int
		meta        string
		own         string
		sessions    string
	}
	snap := func(s *Store) snapshot {
		t.Helper()
		var sn snapshot
		var err error
		if sn.msgs, err = s.Count(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.db.QueryRow(`SELECT count(*) FROM outbox_wire`).Scan(&sn.wires); err != nil {
			t.Fatal(err)
		}
		sn.meta, _ = s.Meta(ctx, "mam")
		d, _, _ := s.OwnDevice(ctx)
		sn.own = string(d.State)
		for _, k := range []SessionKey{bob1, bob2, gone} {
			st, ok, err := s.Session(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			sn.sessions += fmt.Sprintf("%d:%v:%s;", k.Device, ok, st)
		}
		return sn
	}
	before := snap(s)
	// Every step of the transaction, as often as it comes for this batch
	// (counted by a commit that fails at its very end).
	counts := map[string]int{}
	end := errors.New("end")
	s.faultAt = func(at string) error {
		counts[at]++
		if at == "commit" {
			return end
		}
		return nil
	}
	if err := s.Commit(batch()); !errors.Is(err, end) {
		t.Fatalf("counting commit: %v", err)
	}
	if got := snap(s); got != before {
		t.Fatalf("a failure at the commit left %+v, want %+v", got, before)
	}
	for step, want := range map[string]int{"meta": 1, "message": 2, "own device": 1, "session": 2, "ended": 1, "commit": 1} {
		if counts[step] != want {
			t.Fatalf("step %q came %d times, want %d (%v)", step, counts[step], want, counts)
		}
	}
	for step, n := range counts {
		for nth := 1; nth <= n; nth++ {
			boom := fmt.Errorf("failure at %s #%d", step, nth)
			hit := 0
			s.faultAt = func(at string) error {
				if at == step {
					if hit++; hit == nth {
						return boom
					}
				}
				return nil
			}
			b := batch()
			err := s.Commit(b)
			s.faultAt = nil
			if !errors.Is(err, boom) {
				t.Fatalf("failure at %s #%d: Commit returned %v", step, nth, err)
			}
			if b.Messages[0].ID != 0 || b.Messages[1].ID != 0 {
				t.Fatalf("failure at %s #%d left message IDs %d, %d", step, nth, b.Messages[0].ID, b.Messages[1].ID)
			}
			if got := snap(s); got != before {
				t.Fatalf("failure at %s #%d left %+v, want %+v", step, nth, got, before)
			}
		}
	}
	b := batch()
	if err := s.Commit(b); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	want := snapshot{msgs: 3, wires: 1, meta: "A2", own: "device v2", sessions: "1:true:bob1 v2;2:true:bob2 v1;3:false:;"}
	if got := snap(s2); got != want {
		t.Fatalf("after the commit and a restart: %+v, want %+v", got, want)
	}
	if b.Messages[0].ID == 0 || b.Messages[1].ID == 0 {
		t.Fatal("IDs not filled in")
	}
	if un, _ := s2.Unsent(ctx); len(un) != 1 || un[0].Wire != "<encrypted/>" {
		t.Fatalf("outbox: %+v", un)
	}
	// Something refused before the transaction begins writes nothing
	// either.
	bad := batch()
	bad.Sessions = append(bad.Sessions, Session{SessionKey: SessionKey{JID: "bob@x", Device: 0, Version: OMEMO03}, State: []byte("x")})
	if err := s2.Commit(bad); err == nil {
		t.Fatal("a session with device 0 committed")
	}
	if got := snap(s2); got != want {
		t.Fatalf("a refused batch changed %+v", got)
	}
}

// A JID whose device list names new ids each time (its server can
// publish any) does not grow the database without end: devices gone from
// the list that never told us their identity key are kept up to
// MaxGoneDevices, the last listed; those with a known key stay.
func TestOMEMOGoneDevicesBounded(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if _, err := s.SaveDeviceList(ctx, "bob@x", OMEMO03, []ListedDevice{{ID: 7}}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetIdentity(ctx, "bob@x", OMEMO03, 7, []byte("identity of 7"), t0); err != nil {
		t.Fatal(err)
	}
	next := uint32(100)
	for round := 1; round <= 20; round++ {
		var l []ListedDevice
		for range 64 {
			next++
			l = append(l, ListedDevice{ID: next})
		}
		if _, err := s.SaveDeviceList(ctx, "bob@x", OMEMO03, l, t0.Add(time.Duration(round)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	devs, err := s.Devices(ctx, "bob@x", OMEMO03)
	if err != nil {
		t.Fatal(err)
	}
	active, gone, seven := 0, 0, false
	for _, d := range devs {
		switch {
		case d.ID == 7:
			seven = true
		case d.Active:
			active++
		default:
			gone++
			if d.ID <= next-64-MaxGoneDevices {
				t.Fatalf("device %d, gone long ago, kept while later ones were dropped", d.ID)
			}
		}
	}
	if !seven || active != 64 || gone != MaxGoneDevices {
		t.Fatalf("kept device 7: %v, %d active (want 64), %d gone (want %d), after 20 lists of 64 new ids", seven, active, gone, MaxGoneDevices)
	}
}
