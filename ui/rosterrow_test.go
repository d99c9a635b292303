package ui

import (
	"testing"

	"github.com/gab-chat/gab/room"
	"github.com/gab-chat/gab/roster"
)

// A row recognises its own key, and no other row's, without making it.
func TestRosterRowIsItsKey(t *testing.T) {
	c := &roster.Contact{Item: roster.Item{JID: "a@x"}}
	rm := &room.Room{JID: "a@x"}
	rows := []rosterRow{
		{account: "acct", contact: c},
		{account: "acct", room: rm},
		{account: "acct", group: "a@x", header: "a@x"},
		{account: "acct", group: "", header: "Contacts"},
		{account: "acct\x00c", contact: &roster.Contact{Item: roster.Item{JID: "x"}}},
		{account: "acc", contact: &roster.Contact{Item: roster.Item{JID: "t\x00c\x00a@x"}}},
		{account: "other", contact: c},
		{account: "acct", contact: &roster.Contact{Item: roster.Item{JID: "a@x2"}}},
	}
	for i := range rows {
		for j := range rows {
			want := rows[i].key() == rows[j].key()
			if got := rows[i].is(rows[j].key()); got != want {
				t.Errorf("row %d is row %d's key %q: %v, want %v", i, j, rows[j].key(), got, want)
			}
		}
	}
}
