package roster

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func names(cs []*Contact) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.JID
	}
	return out
}

func TestBestResource(t *testing.T) {
	cases := []struct {
		name string
		res  []Presence
		want string
	}{
		{"priority wins over availability", []Presence{{Resource: "phone", Show: Chat, Priority: 0}, {Resource: "pc", Show: Away, Priority: 5}}, "pc"},
		{"availability breaks a priority tie", []Presence{{Resource: "a", Show: Away}, {Resource: "b", Show: Online}}, "b"},
		{"dnd ranks above xa", []Presence{{Resource: "a", Show: XA}, {Resource: "b", Show: DND}}, "b"},
		{"stable on full tie", []Presence{{Resource: "z", Show: Online}, {Resource: "m", Show: Online}}, "m"},
		{"negative priority still shows", []Presence{{Resource: "bot", Show: Online, Priority: -1}}, "bot"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := New()
			for _, p := range tc.res {
				r.SetPresence("a@x", p)
			}
			best, ok := r.Get("a@x").Best()
			if !ok || best.Resource != tc.want {
				t.Fatalf("best = %+v, want %s", best, tc.want)
			}
		})
	}
}

func TestPresenceBeforeRosterIsKept(t *testing.T) {
	r := New()
	r.SetPresence("bob@x", Presence{Resource: "pc", Show: Away, Status: "lunch"})
	if r.Len() != 0 {
		t.Fatal("presence-only entity listed before the roster")
	}
	r.Reset([]Item{{JID: "bob@x", Name: "Bob", Subscription: SubBoth}}, "v1")
	c := r.Get("bob@x")
	if c == nil || c.Show() != Away || c.Name != "Bob" || r.Version != "v1" {
		t.Fatalf("contact = %+v", c)
	}
}

func TestPushesAndUnavailable(t *testing.T) {
	r := New()
	r.Reset([]Item{{JID: "a@x", Subscription: SubBoth}, {JID: "b@x", Subscription: SubTo, Groups: []string{"Work"}}}, "")
	r.Push(Item{JID: "c@x", Subscription: SubNone, Ask: true}, "v2")
	r.Push(Item{JID: "a@x", Subscription: "remove"}, "v3")
	if got := names(r.Sorted(ByName, true)); !reflect.DeepEqual(got, []string{"b@x", "c@x"}) {
		t.Fatalf("after pushes: %v", got)
	}
	if !r.Get("c@x").Ask || r.Version != "v3" {
		t.Fatal("ask flag or version lost")
	}
	r.SetPresence("b@x", Presence{Resource: "1", Show: Online})
	r.SetPresence("b@x", Presence{Resource: "2", Show: DND})
	r.SetUnavailable("b@x", "1")
	if r.Get("b@x").Show() != DND {
		t.Fatalf("after one resource left: %v", r.Get("b@x").Show())
	}
	r.SetUnavailable("b@x", "")
	if r.Get("b@x").Show() != Offline {
		t.Fatal("bare unavailable did not clear every resource")
	}
}

func TestSortedByPresenceThenName(t *testing.T) {
	r := New()
	r.Reset([]Item{
		{JID: "zed@x", Subscription: SubBoth},
		{JID: "amy@x", Subscription: SubBoth},
		{JID: "bob@x", Name: "bob", Subscription: SubBoth},
		{JID: "carl@x", Name: "Carl", Subscription: SubBoth},
		{JID: "off@x", Subscription: SubBoth},
	}, "")
	r.SetPresence("zed@x", Presence{Resource: "r", Show: Chat})
	r.SetPresence("bob@x", Presence{Resource: "r", Show: Away})
	r.SetPresence("carl@x", Presence{Resource: "r", Show: Away})
	r.SetPresence("amy@x", Presence{Resource: "r", Show: Online})
	r.SetPendingIn("new@x", true, "Newbie")
	want := []string{"zed@x", "amy@x", "bob@x", "carl@x", "new@x", "off@x"}
	if got := names(r.Sorted(ByPresence, true)); !reflect.DeepEqual(got, want) {
		t.Fatalf("by presence: %v", got)
	}
	if got := names(r.Sorted(ByPresence, false)); !reflect.DeepEqual(got, want[:5]) {
		t.Fatalf("hiding offline (pending request stays): %v", got)
	}
	if got := names(r.Sorted(ByName, true)); !reflect.DeepEqual(got, []string{"amy@x", "bob@x", "carl@x", "new@x", "off@x", "zed@x"}) {
		t.Fatalf("by name: %v", got)
	}
}

func TestPendingInClearedByApproval(t *testing.T) {
	r := New()
	r.SetPendingIn("p@x", true, "P")
	if c := r.Get("p@x"); c == nil || !c.PendingIn || c.RequestNick != "P" || r.Len() != 1 {
		t.Fatal("pending request not listed")
	}
	r.Push(Item{JID: "p@x", Subscription: SubFrom}, "")
	if r.Get("p@x").PendingIn {
		t.Fatal("approval did not clear the pending mark")
	}
	r.SetPendingIn("q@x", true, "")
	r.SetPendingIn("q@x", false, "")
	if r.Get("q@x") != nil {
		t.Fatal("denied requester still known")
	}
}

func TestGrouped(t *testing.T) {
	cs := []*Contact{
		{Item: Item{JID: "a@x", Groups: []string{"work", "Friends"}}},
		{Item: Item{JID: "b@x"}},
		{Item: Item{JID: "c@x", Groups: []string{"Friends"}}},
	}
	groups, m := Grouped(cs)
	if !reflect.DeepEqual(groups, []string{"Friends", "work", NoGroup}) {
		t.Fatalf("groups = %q", groups)
	}
	if got := names(m["Friends"]); !reflect.DeepEqual(got, []string{"a@x", "c@x"}) {
		t.Fatalf("Friends = %v", got)
	}
}

func TestParseShow(t *testing.T) {
	for in, want := range map[string]Show{"": Online, "chat": Chat, "away": Away, "xa": XA, "dnd": DND, "bogus": Online} {
		if got := ParseShow(in); got != want {
			t.Errorf("ParseShow(%q) = %v", in, got)
		}
	}
	if s, ok := ShowFromStatus("dnd"); !ok || s.WireShow() != "dnd" {
		t.Error("dnd")
	}
	if s, ok := ShowFromStatus("online"); !ok || s.WireShow() != "" {
		t.Error("online must send no <show/>")
	}
	if _, ok := ShowFromStatus("offline"); ok {
		t.Error("offline is not a status to set")
	}
}

// The server's roster over an identical saved one changes nothing, so
// views keep their rows; any difference is a change.
func TestResetSameRosterKeepsGeneration(t *testing.T) {
	items := []Item{{JID: "a@x", Name: "Ada", Subscription: SubBoth, Groups: []string{"F"}}, {JID: "b@x", Subscription: SubTo}}
	r := New()
	r.Reset(items, "v1")
	r.SetPresence("c@x", Presence{Resource: "r", Show: Online}) // a stranger's presence: not a roster entry
	gen := r.Gen()
	again := []Item{{JID: "b@x", Subscription: SubTo}, {JID: "a@x", Name: "Ada", Subscription: SubBoth, Groups: []string{"F"}}}
	r.Reset(again, "v2")
	if r.Gen() != gen || r.Version != "v2" {
		t.Fatalf("identical reset: gen %d → %d, version %q", gen, r.Gen(), r.Version)
	}
	for _, changed := range [][]Item{
		{items[0]},
		{items[0], items[1], {JID: "d@x", Subscription: SubNone}},
		{{JID: "a@x", Name: "Ada L.", Subscription: SubBoth, Groups: []string{"F"}}, items[1]},
		{{JID: "a@x", Name: "Ada", Subscription: SubBoth, Groups: []string{"G"}}, items[1]},
		{items[0], {JID: "b@x", Subscription: SubTo, Ask: true}},
	} {
		r := New()
		r.Reset(items, "v1")
		gen := r.Gen()
		r.Reset(changed, "v2")
		if r.Gen() == gen {
			t.Errorf("reset to %+v did not count as a change", changed)
		}
		if got := len(r.Contacts()); got != len(changed) {
			t.Errorf("reset to %+v: %d contacts", changed, got)
		}
	}
}

// Sorting by name orders exactly as comparing strings.ToLower of the
// names would, for ASCII and other names alike, the JID breaking ties.
func TestSortByLowerCaseName(t *testing.T) {
	names := []string{"Zoë", "zoe", "Élodie", "elodie", "ÉLODIE", "Straße", "STRASSE", "İlker", "ilker", "Bob", "bob", "", "ALICE", "alice", "Ωmega", "ωmega", "Ärger", "arger"}
	var cs []*Contact
	for i, n := range names {
		cs = append(cs, &Contact{Item: Item{JID: fmt.Sprintf("u%02d@x", len(names)-i), Name: n}})
	}
	want := slices.Clone(cs)
	slices.SortFunc(want, func(a, b *Contact) int {
		if c := strings.Compare(strings.ToLower(a.DisplayName()), strings.ToLower(b.DisplayName())); c != 0 {
			return c
		}
		return strings.Compare(a.JID, b.JID)
	})
	Sort(cs, ByName)
	for i := range cs {
		if cs[i] != want[i] {
			t.Fatalf("at %d: %q (%s), want %q (%s)", i, cs[i].DisplayName(), cs[i].JID, want[i].DisplayName(), want[i].JID)
		}
	}
}
