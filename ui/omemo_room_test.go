package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/room"
	"github.com/gdamore/tcell/v2"
)

// A room that can be encrypted (non-anonymous, members-only) is
// encrypted by default: its tab says so, the composer too, and what is
// typed goes with Encrypt; /omemo off sends in plain text and /omemo on
// encrypts again; /omemo devices asks for the members' devices, which
// are listed. Encrypted lines show their lock.
func TestOMEMORoomEncryptedByDefault(t *testing.T) {
	h := newHarnessWith(t, 180, 24, config.DefaultSettings(), func(a *App) { a.state.Accounts[0].OMEMO = true })
	h.joinTea(occ("bob", room.Participant))
	h.waitFor("type a message, or /help")
	h.send(chat.RoomEncryption{Room: tea, Possible: true})
	h.waitFor("messages here are encrypted (OMEMO)", "type an encrypted message (OMEMO), or /help")
	h.command("secret")
	h.waitCommands(chat.SendMessage{Conv: chat.RoomConv(tea), Body: "secret", Encrypt: true})

	h.send(chat.MessageReceived{Conv: chat.RoomConv(tea), From: tea + "/bob", Bare: tea, Nick: "bob", Body: "locked answer", Time: time.Now(), StoreID: 2,
		OMEMO: &chat.OMEMOInfo{Version: chat.OMEMO03, Device: 7, Trust: history.TrustTrusted}})
	h.waitFor("🔒 bob", "locked answer")

	h.command("/omemo off")
	h.waitFor("messages in this room go in plain text", "type a message, or /help")
	h.command("in the clear")
	h.command("/omemo on")
	h.waitFor("messages in this room are encrypted (OMEMO) to every member's devices")
	h.command("/omemo devices")
	h.waitCommands(chat.SendMessage{Conv: chat.RoomConv(tea), Body: "secret", Encrypt: true}, chat.SendMessage{Conv: chat.RoomConv(tea), Body: "in the clear"},
		chat.ShowRoomOMEMO{Room: tea})
	h.send(chat.RoomOMEMOReport{Room: tea, Refused: []string{"admin"}, Members: []chat.OMEMOReport{
		{JID: "bob@x", Devices: []chat.OMEMODeviceInfo{{ID: 7, Version: chat.OMEMO2, Active: true, Fingerprint: "89abcdef", Trust: history.TrustTrusted}, {ID: 8, Version: chat.OMEMO03, Active: true, Fingerprint: "01234567"}}},
		{JID: "carol@x"},
	}})
	// Each device with the version it is spoken to in, as in a chat.
	h.waitFor("tea@rooms.x: 2 members encrypted to", "the room would not list its admin", "bob@x device 7 (OMEMO 2, active, trusted): 89abcdef",
		"bob@x device 8 (OMEMO 0.3, active, undecided): 01234567", "carol@x: no OMEMO device known")
	h.send(chat.RoomOMEMOReport{Room: tea, Members: []chat.OMEMOReport{{JID: "bob@x"}}})
	h.waitFor("tea@rooms.x: 1 member encrypted to")
}

// A room that cannot be encrypted goes in plain text, and /omemo on
// there is refused with the reason; nothing changes.
func TestOMEMORoomThatCannotBeEncrypted(t *testing.T) {
	h := newHarnessWith(t, 160, 24, config.DefaultSettings(), func(a *App) { a.state.Accounts[0].OMEMO = true })
	h.joinTea()
	h.command("/omemo on")
	h.waitUntil("the refusal before the room is known", func(ls []string) bool {
		return strings.Contains(ls[len(ls)-1], "cannot encrypt in this room: gab does not know yet")
	})
	h.send(chat.RoomEncryption{Room: tea, Why: "the room is not members-only: anyone may enter and read it, so encrypting would protect nothing"})
	h.command("/omemo on")
	h.waitUntil("the refusal", func(ls []string) bool {
		return strings.Contains(ls[len(ls)-1], "cannot encrypt in this room: the room is not members-only")
	})
	h.waitFor("type a message, or /help")
	h.command("plain")
	h.waitCommands(chat.SendMessage{Conv: chat.RoomConv(tea), Body: "plain"})
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
}

// At 80 columns the status line cuts a long answer short: /omemo's
// answers are also said in the tab, whole — the reason a room cannot be
// encrypted, and what /omemo off in a chat means.
func TestOMEMOAnswersWholeAt80Columns(t *testing.T) {
	h := newHarnessWith(t, 80, 24, config.DefaultSettings(), func(a *App) { a.state.Accounts[0].OMEMO = true })
	h.joinTea()
	h.send(chat.RoomEncryption{Room: tea, Why: "the room is not members-only: anyone may enter and read it, so encrypting would protect nothing"})
	h.command("/omemo on")
	h.waitFor("! cannot encrypt in this room", "read it, so encrypting would protect", "        nothing")
	h.command("/msg bob@x")
	h.waitFor("3:bob@x")
	h.command("/omemo off")
	h.waitFor("messages in this chat go in plain text; /omemo on", "encrypts them")
}

// /omemo on where it cannot apply says where it can: in the console, a
// chat or a room; in a private conversation in a room, that those are
// not encrypted.
func TestOMEMOOnWhereItCannotApply(t *testing.T) {
	h := newHarnessWith(t, 120, 24, config.DefaultSettings(), func(a *App) { a.state.Accounts[0].OMEMO = true })
	h.command("/omemo on")
	h.waitUntil("the answer in the console", func(ls []string) bool {
		return strings.Contains(ls[len(ls)-1], "encryption is for chats and rooms: open one first")
	})
	h.joinTea(occ("bob", room.Participant))
	h.command("/msg tea@rooms.x/bob")
	h.waitFor("3:bob (tea@")
	h.command("/omemo on")
	h.waitUntil("the answer in the private conversation", func(ls []string) bool {
		return strings.Contains(ls[len(ls)-1], "private messages in a room are not encrypted")
	})
}
