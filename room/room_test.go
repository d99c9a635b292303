package room

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gab-chat/gab/roster"
)

func nicks(os []*Occupant) []string {
	out := make([]string, len(os))
	for i, o := range os {
		out[i] = o.Nick
	}
	return out
}

func TestParseRoleAndAffiliation(t *testing.T) {
	roles := []struct {
		in   string
		want Role
	}{
		{"moderator", Moderator}, {"participant", Participant}, {"visitor", Visitor},
		{"none", RoleNone}, {"", RoleNone}, {"Moderator", RoleNone}, {"owner", RoleNone}, {"participant ", RoleNone},
	}
	for _, tc := range roles {
		if got := ParseRole(tc.in); got != tc.want {
			t.Errorf("ParseRole(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	affs := []struct {
		in   string
		want Affiliation
	}{
		{"owner", Owner}, {"admin", Admin}, {"member", Member}, {"outcast", Outcast},
		{"none", AffiliationNone}, {"", AffiliationNone}, {"OWNER", AffiliationNone}, {"moderator", AffiliationNone},
	}
	for _, tc := range affs {
		if got := ParseAffiliation(tc.in); got != tc.want {
			t.Errorf("ParseAffiliation(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNotifyAndState(t *testing.T) {
	var r Room
	if r.Notify != NotifyMentions || r.Notify.String() != "mentions" {
		t.Fatalf("default notify = %v", r.Notify)
	}
	for _, tc := range []struct {
		in   string
		want Notify
		ok   bool
	}{{"all", NotifyAll, true}, {"mentions", NotifyMentions, true}, {"none", NotifyNone, true}, {"All", NotifyMentions, false}, {"", NotifyMentions, false}} {
		got, ok := ParseNotify(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseNotify(%q) = %v, %v", tc.in, got, ok)
		}
		if ok && got.String() != tc.in {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
	if r.State != NotJoined || r.State.String() != "not joined" || State(99).String() != "not joined" {
		t.Fatalf("zero state = %v", r.State)
	}
	for s, in := range map[State]bool{NotJoined: false, Joining: true, Joined: true, Left: false, Kicked: false, Banned: false, Removed: false, Destroyed: false, Failed: false} {
		if s.In() != in {
			t.Errorf("%v.In() = %v", s, s.In())
		}
	}
}

func TestSortedByRoleThenNick(t *testing.T) {
	cases := []struct {
		name string
		occ  []Occupant
		want []string
	}{
		{"roles group in order", []Occupant{
			{Nick: "v", Role: Visitor}, {Nick: "p", Role: Participant}, {Nick: "n", Role: RoleNone}, {Nick: "m", Role: Moderator},
		}, []string{"m", "p", "v", "n"}},
		{"nick case-insensitive within a group", []Occupant{
			{Nick: "bob", Role: Participant}, {Nick: "Carl", Role: Participant}, {Nick: "ada", Role: Participant}, {Nick: "Zed", Role: Moderator}, {Nick: "amy", Role: Moderator},
		}, []string{"amy", "Zed", "ada", "bob", "Carl"}},
		{"exact nick breaks a case tie", []Occupant{{Nick: "ada", Role: Participant}, {Nick: "Ada", Role: Participant}, {Nick: "ADA", Role: Participant}}, []string{"ADA", "Ada", "ada"}},
		{"unknown role sorts with none", []Occupant{{Nick: "x", Role: "bogus"}, {Nick: "a", Role: RoleNone}, {Nick: "z", Role: Visitor}}, []string{"z", "a", "x"}},
		{"non-ASCII letters fold", []Occupant{{Nick: "Émile", Role: Participant}, {Nick: "éa", Role: Participant}, {Nick: "zoë", Role: Participant}}, []string{"zoë", "éa", "Émile"}},
		{"empty", nil, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := New("room@muc.x", "me")
			for _, o := range tc.occ {
				r.Update(o)
			}
			if got := nicks(r.Sorted()); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Sorted = %q, want %q", got, tc.want)
			}
			if r.Count() != len(tc.want) {
				t.Fatalf("Count = %d", r.Count())
			}
		})
	}
}

func TestUpdateChangesInPlace(t *testing.T) {
	r := New("room@muc.x", "me")
	r.Update(Occupant{Nick: "ada", Role: Participant, Show: roster.Online})
	r.Update(Occupant{Nick: "bob", Role: Participant})
	r.Update(Occupant{Nick: "cy", Role: Moderator})
	if !r.SetTyping("ada", Composing) {
		t.Fatal("SetTyping on a present occupant failed")
	}
	first := r.Sorted()
	if again := r.Sorted(); &again[0] != &first[0] {
		t.Fatal("Sorted recomputed without a change")
	}
	// A presence change that does not move anyone: the cached list stays
	// and shows it; the chat state is kept, as presence carries none.
	gen := r.Gen()
	r.Update(Occupant{Nick: "ada", Role: Participant, Show: roster.Away, Status: "lunch", Affiliation: Member})
	if r.Gen() == gen {
		t.Fatal("Gen did not move on a change")
	}
	if s := r.Sorted(); &s[0] != &first[0] || s[1].Show != roster.Away || s[1].Status != "lunch" || s[1].Affiliation != Member {
		t.Fatalf("after show change: %+v", *s[1])
	}
	if got := r.Get("ada"); got == nil || got.Typing != Composing {
		t.Fatalf("typing lost on presence: %+v", got)
	}
	// A role change moves the occupant.
	r.Update(Occupant{Nick: "bob", Role: Moderator})
	if got := nicks(r.Sorted()); !reflect.DeepEqual(got, []string{"bob", "cy", "ada"}) {
		t.Fatalf("after voice to moderator: %q", got)
	}
	if !reflect.DeepEqual(nicks(first), []string{"cy", "ada", "bob"}) {
		t.Fatalf("a list already handed out changed: %q", nicks(first))
	}
	r.Update(Occupant{Nick: "bob", Role: Visitor})
	if got := nicks(r.Sorted()); !reflect.DeepEqual(got, []string{"cy", "ada", "bob"}) {
		t.Fatalf("after devoice: %q", got)
	}
	if r.Count() != 3 {
		t.Fatalf("Count = %d", r.Count())
	}
	if r.SetTyping("nobody", Composing) {
		t.Fatal("SetTyping on an absent nick succeeded")
	}
}

func TestRemove(t *testing.T) {
	r := New("room@muc.x", "me")
	r.Update(Occupant{Nick: "ada", OccupantID: "id-a", Role: Participant, Status: "hi"})
	r.Update(Occupant{Nick: "bob", Role: Participant})
	r.SetTyping("ada", Composing)
	before := r.Sorted()
	o, ok := r.Remove("ada")
	if !ok || o.Nick != "ada" || o.Status != "hi" || o.OccupantID != "id-a" {
		t.Fatalf("Remove = %+v, %v", o, ok)
	}
	if r.Get("ada") != nil || r.ByOccupantID("id-a") != nil || r.Count() != 1 {
		t.Fatal("removed occupant still found")
	}
	if got := nicks(r.Sorted()); !reflect.DeepEqual(got, []string{"bob"}) {
		t.Fatalf("Sorted = %q", got)
	}
	if len(before) != 2 {
		t.Fatal("a list already handed out changed")
	}
	if len(r.TypingNicks()) != 0 {
		t.Fatalf("typing of a gone occupant: %q", r.TypingNicks())
	}
	if _, ok := r.Remove("ada"); ok {
		t.Fatal("second Remove found the occupant")
	}
}

func TestRename(t *testing.T) {
	t.Run("keeps identity", func(t *testing.T) {
		r := New("room@muc.x", "me")
		r.Update(Occupant{Nick: "ada", OccupantID: "id-a", RealJID: "ada@x/pc", Role: Moderator, Affiliation: Owner, Show: roster.DND, Status: "busy"})
		r.Update(Occupant{Nick: "bob", Role: Participant})
		r.SetTyping("ada", Composing)
		if !r.Rename("ada", "zed") {
			t.Fatal("Rename of a present occupant failed")
		}
		o := r.Get("zed")
		want := Occupant{Nick: "zed", OccupantID: "id-a", RealJID: "ada@x/pc", Role: Moderator, Affiliation: Owner, Show: roster.DND, Status: "busy"}
		if o == nil || *o != want {
			t.Fatalf("renamed = %+v", o)
		}
		if r.Get("ada") != nil || r.Count() != 2 {
			t.Fatal("old nick still present")
		}
		if got := r.ByOccupantID("id-a"); got == nil || got.Nick != "zed" {
			t.Fatalf("ByOccupantID after rename = %+v", got)
		}
		if got := nicks(r.Sorted()); !reflect.DeepEqual(got, []string{"zed", "bob"}) {
			t.Fatalf("Sorted = %q", got)
		}
		if len(r.TypingNicks()) != 0 {
			t.Fatal("chat state survived the rename")
		}
		r.Update(Occupant{Nick: "zed", OccupantID: "id-a", Role: Participant})
		if got := nicks(r.Sorted()); !reflect.DeepEqual(got, []string{"bob", "zed"}) {
			t.Fatalf("Sorted after the new nick's presence = %q", got)
		}
	})
	t.Run("moves within the order", func(t *testing.T) {
		r := New("room@muc.x", "me")
		for _, n := range []string{"b", "d", "f"} {
			r.Update(Occupant{Nick: n, Role: Participant})
		}
		r.Rename("b", "g")
		r.Rename("f", "a")
		if got := nicks(r.Sorted()); !reflect.DeepEqual(got, []string{"a", "d", "g"}) {
			t.Fatalf("Sorted = %q", got)
		}
	})
	t.Run("absent", func(t *testing.T) {
		r := New("room@muc.x", "me")
		if r.Rename("ghost", "x") || r.Count() != 0 {
			t.Fatal("Rename of an absent nick did something")
		}
	})
	t.Run("same nick", func(t *testing.T) {
		r := New("room@muc.x", "me")
		r.Update(Occupant{Nick: "ada", Role: Participant})
		if !r.Rename("ada", "ada") || r.Count() != 1 || r.Get("ada") == nil {
			t.Fatal("Rename to the same nick lost the occupant")
		}
	})
	t.Run("onto a taken nick", func(t *testing.T) {
		r := New("room@muc.x", "me")
		r.Update(Occupant{Nick: "ada", OccupantID: "1", Role: Participant})
		r.Update(Occupant{Nick: "bob", OccupantID: "2", Role: Moderator})
		r.Rename("ada", "bob")
		if r.Count() != 1 || r.Get("bob").OccupantID != "1" || r.ByOccupantID("2") != nil {
			t.Fatalf("after collision: %+v", r.Get("bob"))
		}
		if got := nicks(r.Sorted()); !reflect.DeepEqual(got, []string{"bob"}) {
			t.Fatalf("Sorted = %q", got)
		}
	})
	t.Run("ourselves", func(t *testing.T) {
		r := New("room@muc.x", "me")
		r.UpdateSelf(Occupant{Nick: "me", OccupantID: "self", Role: Participant})
		r.Rename("me", "me2")
		if r.Nick != "me2" || r.Self() == nil || r.Self().Nick != "me2" {
			t.Fatalf("Nick = %q, Self = %+v", r.Nick, r.Self())
		}
		r.Update(Occupant{Nick: "other", Role: Participant})
		r.Rename("other", "x")
		if r.Nick != "me2" {
			t.Fatal("someone else's rename changed our nick")
		}
	})
}

func TestSame(t *testing.T) {
	cases := []struct {
		name string
		a, b Occupant
		want bool
	}{
		{"same id, different nick", Occupant{Nick: "ada", OccupantID: "1"}, Occupant{Nick: "zed", OccupantID: "1"}, true},
		{"different id, same nick", Occupant{Nick: "ada", OccupantID: "1"}, Occupant{Nick: "ada", OccupantID: "2"}, false},
		{"id wins over JID", Occupant{OccupantID: "1", RealJID: "a@x/1"}, Occupant{OccupantID: "2", RealJID: "a@x/1"}, false},
		{"same bare JID, other resource", Occupant{Nick: "a", RealJID: "ada@x/pc"}, Occupant{Nick: "b", RealJID: "ada@x/phone"}, true},
		{"different JID, same nick", Occupant{Nick: "a", RealJID: "ada@x/pc"}, Occupant{Nick: "a", RealJID: "eve@x/pc"}, false},
		{"one id only falls to JID", Occupant{OccupantID: "1", RealJID: "a@x"}, Occupant{RealJID: "a@x/r"}, true},
		{"nothing but nicks", Occupant{Nick: "ada"}, Occupant{Nick: "ada"}, true},
		{"nicks differ", Occupant{Nick: "ada"}, Occupant{Nick: "Ada"}, false},
		{"one JID only falls to nick", Occupant{Nick: "ada", RealJID: "a@x"}, Occupant{Nick: "ada"}, true},
	}
	for _, tc := range cases {
		if got := Same(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: Same = %v", tc.name, got)
		}
		if got := Same(tc.b, tc.a); got != tc.want {
			t.Errorf("%s: Same (swapped) = %v", tc.name, got)
		}
	}
}

func TestIsSelf(t *testing.T) {
	cases := []struct {
		name string
		self *Occupant // our own presence, if it has come
		nick string    // r.Nick otherwise
		o    Occupant
		want bool
	}{
		{"our nick and id", &Occupant{Nick: "me", OccupantID: "s"}, "", Occupant{Nick: "me", OccupantID: "s"}, true},
		{"our nick, someone else's id", &Occupant{Nick: "me", OccupantID: "s"}, "", Occupant{Nick: "me", OccupantID: "t"}, false},
		{"our id under another nick", &Occupant{Nick: "me", OccupantID: "s"}, "", Occupant{Nick: "me-phone", OccupantID: "s"}, true},
		{"no ids: nick decides", &Occupant{Nick: "me"}, "", Occupant{Nick: "me"}, true},
		{"no ids: other nick", &Occupant{Nick: "me"}, "", Occupant{Nick: "Me"}, false},
		{"id known, occupant without one: nick decides", &Occupant{Nick: "me", OccupantID: "s"}, "", Occupant{Nick: "me"}, true},
		{"before our presence", nil, "me", Occupant{Nick: "me", OccupantID: "x"}, true},
		{"no nick at all", nil, "", Occupant{Nick: ""}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := New("room@muc.x", tc.nick)
			if tc.self != nil {
				r.UpdateSelf(*tc.self)
			}
			if got := r.IsSelf(tc.o); got != tc.want {
				t.Fatalf("IsSelf = %v", got)
			}
		})
	}
}

// An occupant cannot appear as us: after we change nick, someone who takes
// our old nick, and then us taking it back while they hold it in our view,
// never makes their occupant ours.
func TestNickTakenAfterChangeIsNotSelf(t *testing.T) {
	r := New("room@muc.x", "ada")
	r.State = Joining
	r.UpdateSelf(Occupant{Nick: "ada", OccupantID: "me", Role: Participant})
	if r.State != Joined || r.Self() == nil {
		t.Fatalf("state %v, self %+v", r.State, r.Self())
	}
	r.Rename("ada", "ada_")
	r.Update(Occupant{Nick: "ada", OccupantID: "eve", Role: Participant})
	if s := r.Self(); s == nil || s.Nick != "ada_" {
		t.Fatalf("Self = %+v", s)
	}
	// Our nick field pointing at the taken nick (as when the room refuses
	// our change back) still does not make the impostor us.
	r.Nick = "ada"
	if r.IsSelf(*r.Get("ada")) || r.Self() != nil {
		t.Fatal("an occupant with our nick and another id was taken for us")
	}
	if got := r.Complete("ada", nil); !reflect.DeepEqual(got, []string{"ada"}) {
		t.Fatalf("the impostor is someone to complete: %q", got)
	}
}

func TestByOccupantID(t *testing.T) {
	r := New("room@muc.x", "me")
	if r.ByOccupantID("") != nil {
		t.Fatal("empty id found something")
	}
	r.Update(Occupant{Nick: "nick-pc", OccupantID: "same", Role: Participant})
	r.Update(Occupant{Nick: "nick-phone", OccupantID: "same", Role: Participant})
	r.Update(Occupant{Nick: "anon", Role: Participant})
	if !r.OccupantIDs {
		t.Fatal("a presence with an occupant-id did not mark the room as offering them")
	}
	if o := r.ByOccupantID("same"); o == nil || o.Nick != "nick-pc" {
		t.Fatalf("ByOccupantID = %+v", o)
	}
	r.Remove("nick-pc")
	if o := r.ByOccupantID("same"); o == nil || o.Nick != "nick-phone" {
		t.Fatalf("after the first left: %+v", o)
	}
	// A nick whose id changes (a new person at a freed nick) is found by
	// the new id only.
	r.Update(Occupant{Nick: "nick-phone", OccupantID: "other", Role: Participant})
	if r.ByOccupantID("same") != nil || r.ByOccupantID("other") == nil {
		t.Fatal("id index not moved with the presence")
	}
}

func TestClear(t *testing.T) {
	r := New("room@muc.x", "me")
	r.Password, r.Subject, r.Unread, r.Mentions, r.Notify = "pw", "topic", 3, 1, NotifyAll
	r.UpdateSelf(Occupant{Nick: "me", OccupantID: "s", Role: Participant})
	r.Update(Occupant{Nick: "ada", OccupantID: "a", Role: Participant})
	r.SetTyping("ada", Composing)
	r.Sorted()
	r.Clear()
	if r.Count() != 0 || len(r.Sorted()) != 0 || r.Get("ada") != nil || r.ByOccupantID("a") != nil || r.Self() != nil || len(r.TypingNicks()) != 0 || r.OccupantIDs {
		t.Fatal("occupants survived Clear")
	}
	if r.JID != "room@muc.x" || r.Nick != "me" || r.Password != "pw" || r.Subject != "topic" || r.Unread != 3 || r.Mentions != 1 || r.Notify != NotifyAll || r.State != Joined {
		t.Fatalf("room settings lost: %+v", r)
	}
	// Our old id is forgotten too: after a rejoin without ids, our nick is us.
	r.Update(Occupant{Nick: "me", Role: Participant})
	if r.Self() == nil {
		t.Fatal("an old occupant-id outlived Clear")
	}
}

func TestTypingNicks(t *testing.T) {
	r := New("room@muc.x", "me")
	r.UpdateSelf(Occupant{Nick: "me", Role: Participant})
	for _, n := range []string{"cy", "Bob", "ada", "dee"} {
		r.Update(Occupant{Nick: n, Role: Participant})
	}
	r.SetTyping("me", Composing)
	r.SetTyping("cy", Composing)
	r.SetTyping("ada", Composing)
	r.SetTyping("Bob", Composing)
	r.SetTyping("dee", "paused")
	if got := r.TypingNicks(); !reflect.DeepEqual(got, []string{"ada", "Bob", "cy"}) {
		t.Fatalf("TypingNicks = %q", got)
	}
	r.SetTyping("cy", "active")
	r.Remove("ada")
	if got := r.TypingNicks(); !reflect.DeepEqual(got, []string{"Bob"}) {
		t.Fatalf("TypingNicks = %q", got)
	}
	if r.Get("dee").Typing != "paused" {
		t.Fatal("chat state not stored")
	}
}

func TestTypingText(t *testing.T) {
	cases := []struct {
		names []string
		want  string
	}{
		{nil, ""},
		{[]string{"ada"}, "ada is typing"},
		{[]string{"ada", "bob"}, "ada and bob are typing"},
		{[]string{"ada", "bob", "cy"}, "ada and 2 others are typing"},
		{[]string{"ada", "b", "c", "d", "e"}, "ada and 4 others are typing"},
	}
	for _, tc := range cases {
		if got := TypingText(tc.names); got != tc.want {
			t.Errorf("TypingText(%q) = %q, want %q", tc.names, got, tc.want)
		}
	}
}

func TestComplete(t *testing.T) {
	r := New("room@muc.x", "Adm")
	r.UpdateSelf(Occupant{Nick: "Adm", Role: Moderator})
	for _, n := range []string{"ada", "Adam", "alice", "bob", "ÄRGER", "ärmel", "Ǆemal"} {
		r.Update(Occupant{Nick: n, Role: Participant})
	}
	cases := []struct {
		name   string
		prefix string
		recent []string
		want   []string
	}{
		{"alphabetical, case-insensitive, without us", "ad", nil, []string{"ada", "Adam"}},
		{"upper-case prefix", "AL", nil, []string{"alice"}},
		{"recent speakers first, in their order", "a", []string{"alice", "gone", "Adam", "alice", "Adm"}, []string{"alice", "Adam", "ada"}},
		{"recent not matching is left out", "b", []string{"alice"}, []string{"bob"}},
		{"non-ASCII fold", "är", nil, []string{"ÄRGER", "ärmel"}},
		{"title-case digraph", "ǆ", nil, []string{"Ǆemal"}},
		{"empty prefix: everyone but us", "", []string{"bob"}, []string{"bob", "ada", "Adam", "alice", "ÄRGER", "ärmel", "Ǆemal"}},
		{"no match", "zz", []string{"bob"}, nil},
		{"prefix longer than any nick", "adamant", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.Complete(tc.prefix, tc.recent); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Complete(%q, %q) = %q, want %q", tc.prefix, tc.recent, got, tc.want)
			}
		})
	}
}

func TestRooms(t *testing.T) {
	rs := NewRooms()
	b := rs.Add("b@muc.x", "me")
	a := rs.Add("a@muc.x", "me2")
	if again := rs.Add("b@muc.x", "other"); again != b || b.Nick != "me" {
		t.Fatal("Add replaced an existing room")
	}
	if rs.Get("a@muc.x") != a || rs.Get("c@muc.x") != nil || rs.Len() != 2 {
		t.Fatal("Get/Len wrong")
	}
	if all := rs.All(); len(all) != 2 || all[0] != a || all[1] != b {
		t.Fatalf("All = %v", all)
	}
	rs.Remove("a@muc.x")
	if rs.Get("a@muc.x") != nil || rs.Len() != 1 {
		t.Fatal("Remove kept the room")
	}
}

// Nicks are stored as the room sent them, however hostile; nothing panics
// and the order stays total.
func TestHostileNicks(t *testing.T) {
	long := strings.Repeat("ä", 10000)
	hostile := []string{
		long,
		long + "x",
		"\x00\x01\x1b[31mred\x1b[0m",
		"\u202eevil\u202c",
		"\u2066iso\u2069",
		"a\u0301",
		"\uFFFD",
		"\xff\xfe",
		"tab\there",
		"line\nbreak",
	}
	r := New("room@muc.x", long)
	r.UpdateSelf(Occupant{Nick: long, Role: Participant})
	for _, n := range hostile[1:] {
		r.Update(Occupant{Nick: n, Role: Participant, Status: n})
	}
	for _, n := range hostile {
		if o := r.Get(n); o == nil || o.Nick != n {
			t.Fatalf("nick %q not stored as sent", n)
		}
	}
	s := r.Sorted()
	if len(s) != len(hostile) {
		t.Fatalf("Sorted has %d", len(s))
	}
	for i := 1; i < len(s); i++ {
		a := &entry{rank: s[i-1].Role.rank(), fold: strings.ToLower(s[i-1].Nick), Occupant: *s[i-1]}
		b := &entry{rank: s[i].Role.rank(), fold: strings.ToLower(s[i].Nick), Occupant: *s[i]}
		if !a.less(b) {
			t.Fatalf("out of order: %q before %q", s[i-1].Nick, s[i].Nick)
		}
	}
	if got := r.Complete(strings.Repeat("Ä", 10000), nil); !reflect.DeepEqual(got, []string{long + "x"}) {
		t.Fatalf("Complete long = %d results", len(got))
	}
	if !Mentions("hi "+long+"!", long) || Mentions("hi "+long+"x", long) {
		t.Fatal("long nick mention wrong")
	}
	if !Mentions("ping \u202eevil\u202c: look", "\u202eevil\u202c") {
		t.Fatal("bidi nick not found")
	}
	if !Mentions("\u202eada", "ada") {
		t.Fatal("a bidi override is not a letter: it should not hide a mention")
	}
	for _, n := range hostile {
		r.SetTyping(n, Composing)
		if !r.Rename(n, n+"~") {
			t.Fatalf("rename of %q failed", n)
		}
		if _, ok := r.Remove(n + "~"); !ok {
			t.Fatalf("remove of %q failed", n)
		}
	}
	if r.Count() != 0 || len(r.Sorted()) != 0 {
		t.Fatal("occupants left over")
	}
	if got := TypingText([]string{"\x1b[2J", long}); got != "\x1b[2J and "+long+" are typing" {
		t.Fatal("TypingText changed the names")
	}
}

// Nicks equal but for case are distinct occupants; each can be found in
// the order to move or remove it, whatever order they joined in.
func TestCaseTwinsJoinMoveLeave(t *testing.T) {
	r := New("room@muc.x", "me")
	for _, n := range []string{"ada", "ADA", "Ada", "aDa"} {
		r.Update(Occupant{Nick: n, Role: Participant})
	}
	if got := nicks(r.Sorted()); !reflect.DeepEqual(got, []string{"ADA", "Ada", "aDa", "ada"}) {
		t.Fatalf("Sorted = %q", got)
	}
	r.Remove("Ada")
	r.Update(Occupant{Nick: "aDa", Role: Moderator})
	r.Rename("ADA", "bob")
	if got := nicks(r.Sorted()); !reflect.DeepEqual(got, []string{"aDa", "ada", "bob"}) {
		t.Fatalf("Sorted = %q", got)
	}
}

// Every kind of change shows in the next Sorted.
func TestSortedFollowsEachChange(t *testing.T) {
	r := New("room@muc.x", "me")
	steps := []struct {
		name string
		do   func()
		want []string
	}{
		{"join", func() { r.Update(Occupant{Nick: "bob", Role: Participant}) }, []string{"bob"}},
		{"second join", func() { r.Update(Occupant{Nick: "ada", Role: Participant}) }, []string{"ada", "bob"}},
		{"self join", func() { r.UpdateSelf(Occupant{Nick: "me", Role: Moderator}) }, []string{"me", "ada", "bob"}},
		{"role change", func() { r.Update(Occupant{Nick: "bob", Role: Moderator}) }, []string{"bob", "me", "ada"}},
		{"rename", func() { r.Rename("ada", "zed") }, []string{"bob", "me", "zed"}},
		{"leave", func() { r.Remove("bob") }, []string{"me", "zed"}},
		{"clear", func() { r.Clear() }, []string{}},
		{"join after clear", func() { r.Update(Occupant{Nick: "cy", Role: Visitor}) }, []string{"cy"}},
	}
	for _, st := range steps {
		st.do()
		if got := nicks(r.Sorted()); !reflect.DeepEqual(got, st.want) {
			t.Fatalf("after %s: Sorted = %q, want %q", st.name, got, st.want)
		}
	}
}

func TestZeroRoomIsUsable(t *testing.T) {
	var r Room
	if r.Count() != 0 || len(r.Sorted()) != 0 || r.Get("x") != nil || r.Self() != nil || r.Rename("a", "b") || r.SetTyping("a", Composing) {
		t.Fatal("empty zero room reported something")
	}
	if _, ok := r.Remove("a"); ok {
		t.Fatal("Remove on a zero room found something")
	}
	r.Update(Occupant{Nick: "ada", OccupantID: "1", Role: Participant})
	r.SetTyping("ada", Composing)
	if r.Count() != 1 || r.ByOccupantID("1") == nil || len(r.TypingNicks()) != 1 {
		t.Fatal("zero room did not take an occupant")
	}
}
