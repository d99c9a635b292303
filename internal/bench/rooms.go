package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
)

// The room cases: joining a big room, and a busy one.

const (
	bigRoom    = "big@" + xmpptest.MUCService
	roomRounds = 3
)

// Sizes of the room cases (flags).
var (
	roomOccupants, roomArchived, roomRate int
	roomFor                               time.Duration
)

// roomSetup is a Prosody with a room of n occupants (besides its owner)
// and m messages in its archive.
type roomSetup struct {
	srv   *xmpptest.Server
	owner *xmpptest.Raw
	crowd []*xmpptest.Raw
}

func (r *roomSetup) close() {
	for _, c := range r.crowd {
		c.Close()
	}
	if r.owner != nil {
		r.owner.Close()
	}
	if r.srv != nil {
		r.srv.Stop()
	}
}

// newRoom starts the server and fills the room: the owner makes it and
// says m things; n occupants (one account, a resource and nick each: the
// server does for them what it does for n people) join.
func newRoom(dir string, n, m int) (*roomSetup, error) {
	r := &roomSetup{}
	var err error
	if r.srv, err = xmpptest.NewServer(dir, xmpptest.Options{MUC: true}); err != nil { // started, too
		return r, err
	}
	for _, u := range []string{"owner", "crowd", "bench", "bare"} {
		if err := r.srv.RegisterUser(u, "pw"); err != nil {
			return r, err
		}
	}
	if r.owner, err = xmpptest.LoginRaw(r.srv, "owner", "pw", "raw"); err != nil {
		return r, err
	}
	if _, err := r.owner.JoinRoom(bigRoom, "owner", ""); err != nil {
		return r, err
	}
	if err := r.owner.UnlockRoom(bigRoom); err != nil {
		return r, err
	}
	for i := 1; i <= m; i++ {
		if err := r.owner.Send(fmt.Sprintf(`<message to='%s' type='groupchat' id='a%d'><body>archived %d</body></message>`, bigRoom, i, i)); err != nil {
			return r, err
		}
	}
	if _, err := r.owner.ReadUntil(fmt.Sprintf(">archived %d</body>", m)); err != nil {
		return r, err
	}
	// The owner reads every occupant's arrival: when the last is in, all are.
	r.owner.Discard()
	for i := 0; i < n; i++ {
		c, err := xmpptest.LoginRaw(r.srv, "crowd", "pw", fmt.Sprint("c", i))
		if err != nil {
			return r, err
		}
		r.crowd = append(r.crowd, c)
		c.Discard()
		if err := c.Send(fmt.Sprintf(`<presence to='%s/c%04d'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>`, bigRoom, i)); err != nil {
			return r, err
		}
	}
	// Everyone in: a newcomer is told of all of them.
	probe, err := xmpptest.LoginRaw(r.srv, "bare", "pw", "probe")
	if err != nil {
		return r, err
	}
	defer probe.Close()
	for deadline := time.Now().Add(5 * time.Minute); ; {
		got, err := probe.JoinRoom(bigRoom, "probe", "<history maxstanzas='0'/>")
		if err != nil {
			return r, err
		}
		if strings.Count(got, "<presence") >= n+2 {
			break
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("only %d of %d occupants in the room", strings.Count(got, "<presence")-2, n)
		}
		probe.Send(fmt.Sprintf(`<presence type='unavailable' to='%s/probe'/>`, bigRoom))
		probe.ReadUntil("type='unavailable'")
		time.Sleep(time.Second)
	}
	return r, nil
}

// roomBare is a bare client's join: its self-presence (after every
// occupant's) plus one archive page of the room's last m messages.
func roomBare(srv *xmpptest.Server, m, round int) (time.Duration, error) {
	c, err := xmpptest.LoginRaw(srv, "bare", "pw", fmt.Sprint("bare", round))
	if err != nil {
		return 0, err
	}
	defer c.Close()
	start := time.Now()
	if _, err := c.JoinRoom(bigRoom, fmt.Sprint("bare", round), "<history maxstanzas='0'/>"); err != nil {
		return 0, err
	}
	form := `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field></x>`
	q := fmt.Sprintf(`<iq type='set' id='page' to='%s'><query xmlns='urn:xmpp:mam:2' queryid='q'>%s<set xmlns='http://jabber.org/protocol/rsm'><max>%d</max><before/></set></query></iq>`, bigRoom, form, m)
	if _, err := c.IQ(q, "page"); err != nil {
		return 0, err
	}
	took := time.Since(start)
	c.Send(fmt.Sprintf(`<presence type='unavailable' to='%s/bare%d'/>`, bigRoom, round))
	return took, nil
}

// roomGab is gab's join, typed as /join: until its room tab shows every
// occupant and the last archived message.
func roomGab(gab, dir string, srv *xmpptest.Server, n, m int) (time.Duration, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	t, err := newTmux(dir)
	if err != nil {
		return 0, err
	}
	defer t.stop()
	if err := startGab(t, gab, dir, srv); err != nil {
		return 0, err
	}
	if _, err := t.waitFor("connected as bench@localhost", time.Minute, 20*time.Millisecond); err != nil {
		return 0, err
	}
	defer func() { t.key("C-q"); time.Sleep(300 * time.Millisecond) }()
	t.keys("/join " + bigRoom)
	start := time.Now()
	t.key("Enter")
	// The owner, the crowd and gab.
	if _, err := t.waitFor(fmt.Sprintf("%d in the room", n+2), 5*time.Minute, 2*time.Millisecond); err != nil {
		return 0, err
	}
	at, err := t.waitFor(fmt.Sprintf("archived %d", m), 5*time.Minute, 2*time.Millisecond)
	if err != nil {
		return 0, err
	}
	took := at.Sub(start)
	t.keys("/part")
	t.key("Enter")
	return took, nil
}

// roomJoinCase: join a room of n occupants with m archived messages, gab
// against a bare client, roomRounds times each, alternating. The
// occupants are live (one session each): Prosody takes a while to seat
// them, once.
func roomJoinCase(gab, dir string, n, m int) ([]row, error) {
	r, err := newRoom(filepath.Join(dir, "server"), n, m)
	defer r.close()
	if err != nil {
		return nil, err
	}
	var bares, gabs []float64
	for round := 0; round < roomRounds; round++ {
		b, err := roomBare(r.srv, m, round)
		if err != nil {
			return nil, err
		}
		g, err := roomGab(gab, filepath.Join(dir, fmt.Sprint("gab", round)), r.srv, n, m)
		if err != nil {
			return nil, err
		}
		bares, gabs = append(bares, b.Seconds()), append(gabs, g.Seconds())
	}
	secs := func(x float64) string { return ms(time.Duration(x * float64(time.Second))) }
	var ratio []float64
	for i := range bares {
		ratio = append(ratio, gabs[i]/bares[i])
	}
	return []row{
		{fmt.Sprintf("room of %d occupants, %d archived: bare client (self-presence + one archive page)", n, m), secs(median(bares)),
			fmt.Sprintf("median of %d, %s–%s", roomRounds, secs(slices.Min(bares)), secs(slices.Max(bares)))},
		{fmt.Sprintf("room of %d occupants, %d archived: /join → occupants and messages drawn in gab", n, m), secs(median(gabs)),
			fmt.Sprintf("%.2f× the bare client, median of %d paired rounds (%.2f–%.2f×); target ≤ 1.3×", median(ratio), roomRounds, slices.Min(ratio), slices.Max(ratio))},
	}, nil
}

// roomFloodCase: gab sits in a room where others say rate messages a
// second for d, while the user types; every message must be stored once
// and in order.
func roomFloodCase(gab, dir string, rate int, d time.Duration) ([]row, error) {
	r, err := newRoom(filepath.Join(dir, "server"), 10, 1)
	defer r.close()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	t, err := newTmux(dir)
	if err != nil {
		return nil, err
	}
	defer t.stop()
	if err := startGab(t, gab, dir, r.srv); err != nil {
		return nil, err
	}
	if _, err := t.waitFor("connected as bench@localhost", time.Minute, 20*time.Millisecond); err != nil {
		return nil, err
	}
	defer func() { t.key("C-q"); time.Sleep(500 * time.Millisecond) }()
	t.keys("/join " + bigRoom)
	t.key("Enter")
	if _, err := t.waitFor("12 in the room", time.Minute, 10*time.Millisecond); err != nil {
		return nil, err
	}
	pid := t.pid()
	speaker, err := xmpptest.LoginRaw(r.srv, "owner", "pw", "speaker")
	if err != nil {
		return nil, err
	}
	defer speaker.Close()
	if _, err := speaker.JoinRoom(bigRoom, "speaker", "<history maxstanzas='0'/>"); err != nil {
		return nil, err
	}
	speaker.Discard()
	total := int(d.Seconds() * float64(rate))
	start := time.Now()
	sent := make(chan error, 1)
	go func() {
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for i := 0; i < total; i++ {
			<-tick.C
			if err := speaker.Send(fmt.Sprintf(`<message to='%s' type='groupchat' id='r%d'><body>busy %06d</body></message>`, bigRoom, i, i)); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	var lat []time.Duration
	var peak int64
	typed := ""
	for i := 0; time.Since(start) < d; i++ {
		ch := string(rune('a' + i%26))
		if len(typed) > 60 {
			t.key("C-u")
			typed = ""
			if _, err := t.waitFor("> type a message", 10*time.Second, 2*time.Millisecond); err != nil {
				return nil, err
			}
		}
		typed += ch
		t0 := time.Now()
		t.keys(ch)
		if _, err := t.waitFor("> "+typed, 10*time.Second, 2*time.Millisecond); err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(t0))
		if _, rss, _ := procStat(pid); rss > peak {
			peak = rss
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := <-sent; err != nil {
		return nil, err
	}
	db := filepath.Join(dir, "data", "bench.db")
	if _, err := t.waitFor(fmt.Sprintf("busy %06d", total-1), 5*time.Minute, 50*time.Millisecond); err != nil {
		return nil, err
	}
	if err := busyInOrder(db, total); err != nil {
		return nil, err
	}
	store, err := history.Open(db)
	if err != nil {
		return nil, err
	}
	stored, _ := store.Count(context.Background())
	store.Close()
	_, rss, _ := procStat(pid)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	return []row{
		{fmt.Sprintf("room at %d msg/s for %v", rate, d), fmt.Sprintf("%d messages, each stored once and in order (checked)", total),
			fmt.Sprintf("%d rows in the store afterwards", stored)},
		{"keypress → screen in the busy room", fmt.Sprintf("p50 %s, p99 %s", ms(p(0.5)), ms(p(0.99))), fmt.Sprintf("%d keys, through tmux; target p99 < 50 ms", len(lat))},
		{"memory in the busy room", fmt.Sprintf("peak %.0f MB, after %.0f MB", float64(peak)/1e6, float64(rss)/1e6), "sampled while typing"},
	}, nil
}

// busyInOrder checks that the store holds every message of the busy room
// once, in the order said.
func busyInOrder(path string, n int) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.Query(`SELECT body FROM messages WHERE kind = 'room' AND body LIKE 'busy %' ORDER BY ts, id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return err
		}
		if want := fmt.Sprintf("busy %06d", i); body != want {
			return fmt.Errorf("row %d of the busy room is %q, want %q", i, body, want)
		}
		i++
	}
	if i != n {
		return fmt.Errorf("the store holds %d of the busy room's %d messages", i, n)
	}
	return rows.Err()
}

// autojoinRooms is how many bookmarked rooms the autojoin case joins, and
// autojoinSaid how many messages each room's archive holds.
const (
	autojoinRooms = 20
	autojoinSaid  = 10
)

// autojoinServer starts a server with autojoinRooms persistent rooms, each
// with autojoinSaid archived messages, and "bench" bookmarking all of them
// to be joined at login (XEP-0402).
func autojoinServer(dir string) (*xmpptest.Server, *xmpptest.Raw, error) {
	srv, err := xmpptest.NewServer(dir, xmpptest.Options{MUC: true}) // started, too
	if err != nil {
		return srv, nil, err
	}
	for _, u := range []string{"owner", "bench", "bare"} {
		if err := srv.RegisterUser(u, "pw"); err != nil {
			return srv, nil, err
		}
	}
	owner, err := xmpptest.LoginRaw(srv, "owner", "pw", "owner")
	if err != nil {
		return srv, nil, err
	}
	for r := 0; r < autojoinRooms; r++ {
		jid := xmpptest.Room(fmt.Sprint("room", r))
		if _, err := owner.JoinRoom(jid, "owner", ""); err != nil {
			return srv, owner, err
		}
		if _, err := owner.IQ(fmt.Sprintf(`<iq type='set' id='cfg%d' to='%s'><query xmlns='http://jabber.org/protocol/muc#owner'>`+
			`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>`+
			`<field var='muc#roomconfig_persistentroom'><value>1</value></field></x></query></iq>`, r, jid), fmt.Sprint("cfg", r)); err != nil {
			return srv, owner, err
		}
		for i := 0; i < autojoinSaid; i++ {
			owner.Send(fmt.Sprintf(`<message type='groupchat' to='%s' id='m%d-%d'><body>room %d says %d</body></message>`, jid, r, i, r, i))
		}
		if _, err := owner.ReadUntil(fmt.Sprintf("id='m%d-%d'", r, autojoinSaid-1)); err != nil {
			return srv, owner, err
		}
	}
	owner.Discard()
	bench, err := xmpptest.LoginRaw(srv, "bench", "pw", "setup")
	if err != nil {
		return srv, owner, err
	}
	defer bench.Close()
	opts := `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>` +
		`<field var='pubsub#persist_items'><value>true</value></field><field var='pubsub#max_items'><value>max</value></field>` +
		`<field var='pubsub#send_last_published_item'><value>never</value></field><field var='pubsub#access_model'><value>whitelist</value></field></x></publish-options>`
	for r := 0; r < autojoinRooms; r++ {
		jid := xmpptest.Room(fmt.Sprint("room", r))
		if _, err := bench.IQ(fmt.Sprintf(`<iq type='set' id='bm%d'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:bookmarks:1'>`+
			`<item id='%s'><conference xmlns='urn:xmpp:bookmarks:1' autojoin='true'/></item></publish>%s</pubsub></iq>`, r, jid, opts), fmt.Sprint("bm", r)); err != nil {
			return srv, owner, err
		}
	}
	return srv, owner, nil
}

// autojoinBare is a bare client's login and the same joins, all at once,
// then each room's archive page: until every page has come.
func autojoinBare(srv *xmpptest.Server) (time.Duration, error) {
	start := time.Now()
	c, err := xmpptest.LoginRaw(srv, "bare", "pw", "bare")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	var b strings.Builder
	for r := 0; r < autojoinRooms; r++ {
		fmt.Fprintf(&b, `<presence to='%s/bare'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>`, xmpptest.Room(fmt.Sprint("room", r)))
	}
	if err := c.Send(b.String()); err != nil {
		return 0, err
	}
	for r := 0; r < autojoinRooms; r++ {
		if _, err := c.ReadUntil("code='110'/>"); err != nil {
			return 0, err
		}
	}
	b.Reset()
	form := `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field></x>`
	for r := 0; r < autojoinRooms; r++ {
		fmt.Fprintf(&b, `<iq type='set' id='q%d' to='%s'><query xmlns='urn:xmpp:mam:2' queryid='q%d'>%s<set xmlns='http://jabber.org/protocol/rsm'><max>100</max><before/></set></query></iq>`,
			r, xmpptest.Room(fmt.Sprint("room", r)), r, form)
	}
	if err := c.Send(b.String()); err != nil {
		return 0, err
	}
	for r := 0; r < autojoinRooms; r++ {
		if _, err := c.ReadUntil("<fin "); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// autojoinGab is gab's launch until every bookmarked room is joined and
// its archive is in the store.
func autojoinGab(gab, dir string, srv *xmpptest.Server) (time.Duration, error) {
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		return 0, err
	}
	t, err := newTmux(dir)
	if err != nil {
		return 0, err
	}
	defer t.stop()
	want := autojoinRooms * autojoinSaid
	done := watchRoomRows(filepath.Join(dir, "data", "bench.db"), want)
	start := time.Now()
	if err := startGab(t, gab, dir, srv); err != nil {
		return 0, err
	}
	defer func() { t.key("C-q"); time.Sleep(300 * time.Millisecond) }()
	select {
	case at := <-done:
		return at.Sub(start), nil
	case <-time.After(2 * time.Minute):
		return 0, fmt.Errorf("gab did not hold the %d messages of the %d rooms within 2 minutes:\n%s", want, autojoinRooms, t.screen())
	}
}

// watchRoomRows reports when the store at path holds want room messages:
// once the database exists, one connection asks every 5 ms.
func watchRoomRows(path string, want int) <-chan time.Time {
	at := make(chan time.Time, 1)
	go func() {
		deadline := time.Now().Add(3 * time.Minute)
		for ; time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if _, err := os.Stat(path); err != nil {
				continue
			}
			db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(1000)")
			if err != nil {
				return
			}
			defer db.Close()
			for ; time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				var n int
				if db.QueryRow(`SELECT count(*) FROM messages WHERE kind = 'room'`).Scan(&n) == nil && n >= want {
					at <- time.Now()
					return
				}
			}
			return
		}
	}()
	return at
}

// autojoinCase: login with autojoinRooms bookmarked rooms, gab against a
// bare client, roomRounds times each.
func autojoinCase(gab, dir string) ([]row, error) {
	srv, owner, err := autojoinServer(filepath.Join(dir, "server"))
	if owner != nil {
		defer owner.Close()
	}
	if srv != nil {
		defer srv.Stop()
	}
	if err != nil {
		return nil, err
	}
	var bares, gabs, ratio []float64
	for round := 0; round < roomRounds; round++ {
		b, err := autojoinBare(srv)
		if err != nil {
			return nil, err
		}
		g, err := autojoinGab(gab, filepath.Join(dir, fmt.Sprint("gab", round)), srv)
		if err != nil {
			return nil, err
		}
		bares, gabs, ratio = append(bares, b.Seconds()), append(gabs, g.Seconds()), append(ratio, g.Seconds()/b.Seconds())
	}
	secs := func(x float64) string { return ms(time.Duration(x * float64(time.Second))) }
	return []row{
		{fmt.Sprintf("autojoin of %d bookmarked rooms: bare client", autojoinRooms), secs(median(bares)),
			fmt.Sprintf("login, the %d joins at once, then each room's archive page (%d messages each); median of %d, %s–%s", autojoinRooms, autojoinSaid, roomRounds, secs(slices.Min(bares)), secs(slices.Max(bares)))},
		{fmt.Sprintf("autojoin of %d bookmarked rooms: launch → all joined and caught up in gab", autojoinRooms), secs(median(gabs)),
			fmt.Sprintf("every room's messages in the store; %.2f× the bare client, median of %d paired rounds (%.2f–%.2f×); target ≤ 1.5×", median(ratio), roomRounds, slices.Min(ratio), slices.Max(ratio))},
	}, nil
}
