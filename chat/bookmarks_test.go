package chat

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

const bmEvent = `<message from='%s' to='alice@localhost/gab' type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'>%s</event></message>`

// PEP notifications about the bookmarks node, from our own account and
// from anyone else.
func TestBookmarkTranslateNotifications(t *testing.T) {
	for _, tc := range []struct {
		name, from, payload string
		want                string // fmt of the events, "" for none
	}{
		{"an item", "alice@localhost",
			`<items node='urn:xmpp:bookmarks:1'><item id='Tea@Conference.localhost'><conference xmlns='urn:xmpp:bookmarks:1' name='Tea' autojoin='1'><nick>Al</nick><password>pw</password></conference></item></items>`,
			`[{Bookmarks:[{Room:tea@conference.localhost Name:Tea Nick:Al Password:pw Autojoin:true}] Removed:[] Reset:false Cached:false}]`},
		{"no from is our account", "",
			`<items node='urn:xmpp:bookmarks:1'><item id='b@c'><conference xmlns='urn:xmpp:bookmarks:1' autojoin='false'/></item><retract id='a@c'/></items>`,
			`[{Bookmarks:[{Room:b@c Name: Nick: Password: Autojoin:false}] Removed:[a@c] Reset:false Cached:false}]`},
		{"a retraction", "alice@localhost", `<items node='urn:xmpp:bookmarks:1'><retract id='tea@conference.localhost'/></items>`,
			`[{Bookmarks:[] Removed:[tea@conference.localhost] Reset:false Cached:false}]`},
		{"a purge empties the list", "alice@localhost", `<purge node='urn:xmpp:bookmarks:1'/>`, `[{Bookmarks:[] Removed:[] Reset:true Cached:false}]`},
		{"items that are no rooms are skipped", "alice@localhost",
			`<items node='urn:xmpp:bookmarks:1'><item id='conference.localhost'><conference xmlns='urn:xmpp:bookmarks:1'/></item><item id='x@y'><other xmlns='urn:x'/></item><retract id='@@'/></items>`, ``},
		{"another user", "mallory@localhost",
			`<items node='urn:xmpp:bookmarks:1'><item id='evil@conference.localhost'><conference xmlns='urn:xmpp:bookmarks:1' autojoin='true'/></item></items>`,
			`[{Text:dropped a change to your bookmarks from mallory@localhost (not your account)}]`},
		{"another of our own clients", "alice@localhost/phone",
			`<items node='urn:xmpp:bookmarks:1'><item id='evil@conference.localhost'><conference xmlns='urn:xmpp:bookmarks:1' autojoin='true'/></item></items>`,
			`[{Text:dropped a change to your bookmarks from alice@localhost/phone (not your account)}]`},
		{"another node is not ours", "bob@localhost", `<items node='urn:xmpp:avatar:metadata'><item id='x'/></items>`, ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fmt.Sprintf(bmEvent, tc.from, tc.payload)
			if tc.from == "" {
				s = strings.Replace(s, "from='' ", "", 1)
			}
			evs, reply := Translate(testSelf, parse(t, s))
			got := ""
			if len(evs) > 0 {
				got = fmt.Sprintf("%+v", evs)
			}
			if reply != nil || got != tc.want {
				t.Fatalf("got %s (reply %v)\nwant %s", got, reply, tc.want)
			}
		})
	}
}

// gab asks for bookmark notifications in its disco#info, and the
// capability hash it advertises is that of the list it answers with.
func TestBookmarkNotifyAdvertised(t *testing.T) {
	if !slices.Contains(Features, NSBookmarksNotify) {
		t.Fatalf("features %v lack %s", Features, NSBookmarksNotify)
	}
	c := capsElement()
	node := c.Get("node") + "#" + c.Get("ver")
	_, reply := Translate(testSelf, parse(t, `<iq from='localhost' type='get' id='d1'><query xmlns='http://jabber.org/protocol/disco#info' node='`+node+`'/></iq>`))
	var ids []identity
	var features []string
	for _, f := range reply.Child(NSDiscoInfo, "query").ChildrenIn(NSDiscoInfo) {
		switch f.Name.Local {
		case "identity":
			ids = append(ids, identity{f.Get("category"), f.Get("type"), f.Get("xml:lang"), f.Get("name")})
		case "feature":
			features = append(features, f.Get("var"))
		}
	}
	if !slices.Contains(features, NSBookmarksNotify) || capsVer(ids, features) != c.Get("ver") {
		t.Fatalf("disco#info %v hashes to %s, caps say %s", features, capsVer(ids, features), c.Get("ver"))
	}
}
