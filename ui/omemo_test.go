package ui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/room"
	"github.com/gab-chat/gab/roster"
	"github.com/gdamore/tcell/v2"
)

// A chat with a contact who has OMEMO devices is encrypted: the composer
// says so and what is typed is sent with Encrypt. Encrypted lines show a
// lock (open for a device not trusted); after an encrypted message the
// chat stays encrypted even when the contact's devices are gone; /omemo
// off sends in plain text, and a plain message in an encrypted chat is
// marked. A refused encrypted message stays in the conversation.
func TestOMEMOChat(t *testing.T) {
	h := newHarnessWith(t, 100, 20, config.DefaultSettings(), func(a *App) { a.state.Accounts[0].OMEMO = true })
	bob := chat.ChatWith("bob@x")
	h.openBob()
	h.waitFor("type a message, or /help")
	h.send(chat.OMEMODeviceListChanged{JID: "bob@x", Version: chat.OMEMO03, Devices: []chat.OMEMODevice{{ID: 7}}})
	h.waitFor("type an encrypted message (OMEMO), or /help")
	h.typeText("secret")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommands(chat.SendMessage{Conv: bob, Body: "secret", Encrypt: true})

	h.send(chat.MessageSent{Conv: bob, ID: "s1", To: "bob@x", Body: "secret", Time: time.Now(), State: chat.DeliverySent, StoreID: 1, OMEMO: &chat.OMEMOInfo{Version: chat.OMEMO03, Device: 1}},
		chat.MessageReceived{Conv: bob, From: "bob@x/phone", Bare: "bob@x", Body: "trusted answer", Time: time.Now(), StoreID: 2, OMEMO: &chat.OMEMOInfo{Version: chat.OMEMO03, Device: 7, Trust: history.TrustTrusted}},
		chat.MessageReceived{Conv: bob, From: "bob@x/laptop", Bare: "bob@x", Body: "from a new device", Time: time.Now(), StoreID: 3, OMEMO: &chat.OMEMOInfo{Version: chat.OMEMO03, Device: 8, Trust: history.TrustUndecided}})
	h.waitFor("🔒 me", "🔒 bob@x", "trusted answer", "🔓 bob@x", "from a new device")

	// The devices go: the chat stays encrypted.
	h.send(chat.OMEMODeviceListChanged{JID: "bob@x", Version: chat.OMEMO03, Devices: []chat.OMEMODevice{}})
	h.send(chat.MessageReceived{Conv: bob, From: "bob@x/old", Bare: "bob@x", Body: "sent in the clear", Time: time.Now(), StoreID: 4})
	h.waitFor("(plain) bob@x", "sent in the clear", "type an encrypted message (OMEMO)")

	// Refused: the text stays in the conversation.
	h.send(chat.CommandFailed{ID: 99, Command: chat.SendMessage{Conv: bob, Body: "do not lose me", Encrypt: true}, Err: errors.New("no device of bob@x can be encrypted to: not sent")})
	h.waitFor("could not send this encrypted message", "It read: do not lose me")
	h.waitComposer("do not lose me") // and back in the composer, to send again
	h.onUI(func() { h.app.composer.SetText("", true) })

	h.typeText("/omemo off")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("messages in this chat go in plain text", "type a message, or /help")
	h.typeText("in the clear")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommands(chat.SendMessage{Conv: bob, Body: "secret", Encrypt: true}, chat.SendMessage{Conv: bob, Body: "in the clear"})
	h.typeText("/omemo on")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("messages in this chat are encrypted (OMEMO)")

	h.typeText("/omemo fingerprint")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommands(chat.SendMessage{Conv: bob, Body: "secret", Encrypt: true}, chat.SendMessage{Conv: bob, Body: "in the clear"}, chat.ShowOMEMO{})
	h.send(chat.OMEMOReport{JID: "bob@x", OwnID: 1, OwnFingerprint: "0123abcd 4567ef01", Devices: []chat.OMEMODeviceInfo{{ID: 7, Version: chat.OMEMO2, Active: true, Fingerprint: "89abcdef", Trust: history.TrustTrusted}}})
	h.waitFor("this device: OMEMO 1, fingerprint 0123abcd 4567ef01", "bob@x device 7 (OMEMO 2, active, trusted): 89abcdef")

	// A contact's device that took our device id is the contact's, with
	// its trust; only our own account's list has "this device".
	h.send(chat.OMEMOReport{JID: "bob@x", OwnID: 1, OwnFingerprint: "0123abcd 4567ef01", Devices: []chat.OMEMODeviceInfo{{ID: 1, Version: chat.OMEMO03, Active: true, Fingerprint: "deadbeef", Trust: history.TrustDistrusted}}})
	h.waitFor("bob@x device 1 (OMEMO 0.3, active, distrusted): deadbeef")
	h.send(chat.OMEMOReport{JID: "me@x", Own: true, OwnID: 1, OwnFingerprint: "0123abcd 4567ef01", Devices: []chat.OMEMODeviceInfo{{ID: 1, Version: chat.OMEMO2, Active: true, Fingerprint: "0123abcd 4567ef01"}}})
	h.waitFor("me@x device 1 (OMEMO 2, active, this device):")
}

// A contact whose devices publish OMEMO 2 only has an encrypted chat, and
// an empty OMEMO 0.3 list of theirs does not make it plain.
func TestOMEMO2OnlyContactEncrypted(t *testing.T) {
	h := newHarnessWith(t, 100, 20, config.DefaultSettings(), func(a *App) { a.state.Accounts[0].OMEMO = true })
	h.openBob()
	h.waitFor("type a message, or /help")
	h.send(chat.OMEMODeviceListChanged{JID: "bob@x", Version: chat.OMEMO2, Devices: []chat.OMEMODevice{{ID: 7}}})
	h.waitFor("type an encrypted message (OMEMO), or /help")
	h.send(chat.OMEMODeviceListChanged{JID: "bob@x", Version: chat.OMEMO03, Devices: []chat.OMEMODevice{}})
	h.typeText("secret")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommands(chat.SendMessage{Conv: chat.ChatWith("bob@x"), Body: "secret", Encrypt: true})
}

// Without omemo = true nothing is encrypted and /omemo says how to turn
// it on.
func TestOMEMOOffForTheAccount(t *testing.T) {
	h := newHarness(t, 100, 20)
	h.openBob()
	h.send(chat.OMEMODeviceListChanged{JID: "bob@x", Version: chat.OMEMO03, Devices: []chat.OMEMODevice{{ID: 7}}})
	h.typeText("/omemo on")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("OMEMO is off for me")
	h.typeText("hello")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommands(chat.SendMessage{Conv: chat.ChatWith("bob@x"), Body: "hello"})
	if strings.Contains(strings.Join(h.lines(), "\n"), "encrypted message") {
		t.Fatal("an account without OMEMO says it encrypts")
	}
}

// A message "sent" from another device of our account is marked by that
// device's trust, as a received one is: a device our server added to our
// account, not trusted, does not get the closed lock of what we send.
func TestOMEMOCarbonFromUntrustedDeviceMarked(t *testing.T) {
	h := newHarnessWith(t, 100, 20, config.DefaultSettings(), func(a *App) { a.state.Accounts[0].OMEMO = true })
	bob := chat.ChatWith("bob@x")
	h.openBob()
	h.send(chat.MessageSent{Conv: bob, ID: "s1", To: "bob@x", Body: "from this device", Time: time.Now(), State: chat.DeliverySent, StoreID: 1, OMEMO: &chat.OMEMOInfo{Version: chat.OMEMO03, Device: 1, Trust: history.TrustTrusted}},
		chat.CarbonSent{Conv: bob, ID: "c1", To: "bob@x", Body: "from a device not trusted", Time: time.Now(), StoreID: 2, OMEMO: &chat.OMEMOInfo{Version: chat.OMEMO03, Device: 9, Trust: history.TrustUndecided}})
	h.waitFor("🔒 me", "from this device", "🔓 me", "from a device not trusted")
	for _, l := range h.lines() {
		if strings.Contains(l, "from a device not trusted") && strings.Contains(l, "🔒") {
			t.Fatalf("the carbon from an untrusted device is marked as trusted: %q", l)
		}
	}
	// What this device sent, read back from history, has no trust of
	// its own (the store keeps none for it): it keeps its lock.
	if m := omemoMark(&Line{Kind: LineOut, Enc: &chat.OMEMOInfo{Version: chat.OMEMO03, Device: 1}}); m != "🔒 " {
		t.Fatalf("a stored message sent from this device is marked %q", m)
	}
}

// A contact's new OMEMO device is said in the chat with them when it is
// open, in the console otherwise; our own account's, in the console.
func TestOMEMONewDeviceSaidWhereItMatters(t *testing.T) {
	h := newHarnessWith(t, 120, 20, config.DefaultSettings(), func(a *App) { a.state.Accounts[0].OMEMO = true })
	h.openBob()
	h.send(chat.OMEMODevicesAdded{JID: "bob@x", Devices: []uint32{42}})
	h.waitFor("bob@x has a new OMEMO device (42)")
	inChat := false
	h.onUI(func() {
		c, _ := h.app.state.Find("me", chat.ChatWith("bob@x"))
		for _, l := range c.Lines {
			inChat = inChat || strings.Contains(l.Body, "new OMEMO device (42)")
		}
	})
	if !inChat {
		t.Fatal("not said in the chat with bob")
	}
	h.send(chat.OMEMODevicesAdded{JID: "me@x", Own: true, Devices: []uint32{7}})
	h.send(chat.OMEMODevicesAdded{JID: "carol@x", Devices: []uint32{9}})
	h.key(tcell.KeyRune, '1', tcell.ModAlt)
	h.waitFor("your account has a new OMEMO device (7)", "carol@x has a new OMEMO device (9)")
}

// With omemo_policy = "manual" a chat with a contact who has devices, or
// a room that can be encrypted, stays in plain text until /omemo on (the
// room says it could be); an encrypted message seen in the chat makes it
// encrypted from then on, as ever.
func TestOMEMOManualPolicy(t *testing.T) {
	manual := func(a *App) { a.state.Accounts[0].OMEMO, a.state.Accounts[0].OMEMOManual = true, true }
	t.Run("chat", func(t *testing.T) {
		h := newHarnessWith(t, 180, 24, config.DefaultSettings(), manual)
		bob := chat.ChatWith("bob@x")
		h.openBob()
		h.send(chat.OMEMODeviceListChanged{JID: "bob@x", Version: chat.OMEMO2, Devices: []chat.OMEMODevice{{ID: 7}}})
		h.command("first")
		h.waitCommands(chat.SendMessage{Conv: bob, Body: "first"})
		h.waitFor("type a message, or /help")
		h.send(chat.MessageReceived{Conv: bob, From: "bob@x/phone", Bare: "bob@x", Body: "locked", Time: time.Now(), StoreID: 2,
			OMEMO: &chat.OMEMOInfo{Version: chat.OMEMO2, Device: 7, Trust: history.TrustTrusted}})
		h.waitFor("🔒 bob@x", "type an encrypted message (OMEMO), or /help")
		h.command("second")
		h.waitCommands(chat.SendMessage{Conv: bob, Body: "first"}, chat.SendMessage{Conv: bob, Body: "second", Encrypt: true})
	})
	t.Run("room", func(t *testing.T) {
		h := newHarnessWith(t, 180, 24, config.DefaultSettings(), manual)
		h.joinTea(occ("bob", room.Participant))
		h.send(chat.RoomEncryption{Room: tea, Possible: true})
		h.waitFor("this room can be encrypted (OMEMO)", "type a message, or /help")
		h.command("plain here")
		h.command("/omemo on")
		h.waitFor("messages in this room are encrypted (OMEMO) to every member's devices", "type an encrypted message (OMEMO), or /help")
		h.command("secret here")
		h.waitCommands(chat.SendMessage{Conv: chat.RoomConv(tea), Body: "plain here"}, chat.SendMessage{Conv: chat.RoomConv(tea), Body: "secret here", Encrypt: true})
	})
}

// /omemo trust in a chat at 80 columns: a fingerprint gab cannot use is
// said in the chat, whole, and the command comes back into the composer
// to be corrected (never lost with the fingerprint pasted into it); a
// trust that was set is confirmed there; a message refused because it
// could not be encrypted comes back into the empty composer too.
func TestOMEMOTrustAnsweredInTheChat(t *testing.T) {
	h := newHarnessWith(t, 80, 24, config.DefaultSettings(), func(a *App) { a.state.Accounts[0].OMEMO = true })
	bob := chat.ChatWith("bob@x")
	h.openBob()
	fp := "1a0f2856 e4908797 0ae3a42d 3ed3f850 9938f0bb 83b8f78d 4c773420 4095fe4"
	h.command("/omemo trust bob@x " + fp)
	h.waitCommands(chat.SetOMEMOTrust{JID: "bob@x", Fingerprint: strings.ReplaceAll(fp, " ", ""), Trust: history.TrustVerified})
	h.send(chat.CommandFailed{ID: 1, Command: chat.SetOMEMOTrust{JID: "bob@x", Fingerprint: strings.ReplaceAll(fp, " ", ""), Trust: history.TrustVerified},
		Err: errors.New("that is not a fingerprint: it has 64 hexadecimal digits")})
	h.waitFor("! could not trust the device of bob@x: that", "is not a fingerprint: it has 64", "hexadecimal digits")
	h.waitComposer("/omemo trust bob@x " + strings.ReplaceAll(fp, " ", ""))
	h.onUI(func() { h.app.composer.SetText("", true) })

	h.send(chat.OMEMOTrustSet{JID: "bob@x", Trust: history.TrustVerified, Devices: []uint32{42}, Fingerprint: fp + "8"})
	h.waitFor("bob@x device 42 is verified")

	h.send(chat.CommandFailed{ID: 2, Command: chat.SendMessage{Conv: bob, Body: "do not lose me", Encrypt: true}, Err: errors.New("no device of bob@x can be encrypted to: not sent")})
	h.waitFor("could not send this encrypted message")
	h.waitComposer("do not lose me")
}

// waitComposer waits until the composer holds text.
func (h *harness) waitComposer(text string) {
	h.t.Helper()
	h.waitUntil("“"+text+"” in the composer", func([]string) bool {
		got := ""
		h.onUI(func() { got = h.app.composer.GetText() })
		return got == text
	})
}

// A message that came in plain text after the chat was encrypted keeps
// its "(plain)" mark when the history is read back after a restart; one
// from before the first encrypted message is not marked.
func TestOMEMOPlainMarkKeptInHistory(t *testing.T) {
	h := newHarnessWith(t, 100, 20, config.DefaultSettings(), func(a *App) { a.state.Accounts[0].OMEMO = true })
	bob := chat.ChatWith("bob@x")
	h.openBob()
	day := time.Now().Add(-time.Hour)
	h.send(chat.HistoryLoaded{Conv: bob, Messages: []chat.StoredMessage{
		{StoreID: 1, Conv: bob, From: "bob@x", Body: "before encryption", Time: day},
		{StoreID: 2, Conv: bob, From: "bob@x", Body: "encrypted one", Time: day, OMEMO: &chat.OMEMOInfo{Version: chat.OMEMO03, Device: 7, Trust: history.TrustTrusted}},
		{StoreID: 3, Conv: bob, From: "bob@x", Body: "in the clear after", Time: day},
	}})
	ls := h.waitFor("encrypted one", "in the clear after")
	for _, l := range ls {
		switch {
		case strings.Contains(l, "before encryption") && strings.Contains(l, "(plain)"):
			t.Errorf("marked, from before the chat was encrypted: %q", l)
		case strings.Contains(l, "in the clear after") && !strings.Contains(l, "(plain) bob@x"):
			t.Errorf("not marked as plain text in an encrypted chat: %q", l)
		}
	}
}

// A chat the user opens with someone whose device lists gab is not sent
// (no contact, or no subscription to their presence) asks for them, both
// versions, once: a stranger with OMEMO devices gets an encrypted chat,
// as a contact does, instead of plain text. A contact whose presence we
// see is not asked (their lists come by themselves).
func TestOMEMOStrangerDevicesAskedOnOpening(t *testing.T) {
	h := newHarnessWith(t, 100, 20, config.DefaultSettings(), func(a *App) { a.state.Accounts[0].OMEMO = true })
	h.send(chat.RosterReset{Items: []roster.Item{{JID: "ada@x", Name: "Ada", Subscription: "both"}}})
	h.waitFor("Ada")
	asked := func(jid string) int {
		n := 0
		for _, c := range h.client.commands() {
			if f, ok := c.(chat.FetchOMEMODevices); ok && f.JID == jid {
				n++
			}
		}
		return n
	}
	h.command("/msg ada@x")
	h.waitFor("2:Ada")
	h.command("/msg eve@y")
	h.waitFor("3:eve@y", "type a message, or /help")
	h.waitUntil("eve's lists asked for", func([]string) bool { return asked("eve@y") == 2 })
	want := []chat.Command{chat.FetchOMEMODevices{JID: "eve@y", Version: chat.OMEMO03}, chat.FetchOMEMODevices{JID: "eve@y", Version: chat.OMEMO2}}
	var got []chat.Command
	for _, c := range h.client.commands() {
		if _, ok := c.(chat.FetchOMEMODevices); ok {
			got = append(got, c)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("asked %v, want %v (nothing for ada@x, whose lists come by themselves)", got, want)
	}
	h.send(chat.OMEMODeviceListChanged{JID: "eve@y", Version: chat.OMEMO2, Devices: []chat.OMEMODevice{{ID: 5}}, Fetched: true})
	h.waitFor("type an encrypted message (OMEMO), or /help")
	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	h.command("/msg eve@y")
	h.waitFor("type an encrypted message (OMEMO), or /help")
	if n := asked("eve@y"); n != 2 {
		t.Fatalf("eve's lists asked for %d times, want 2 (once each)", n)
	}
}

// /omemo trust, distrust and devices with an address missing its user
// part (a contact's name typed alone) say so, and ask nothing.
func TestOMEMOAddressWithoutUser(t *testing.T) {
	h := newHarnessWith(t, 120, 24, config.DefaultSettings(), func(a *App) { a.state.Accounts[0].OMEMO = true })
	h.command("/omemo trust dave 1a0f2856 e4908797")
	h.waitFor("dave is no one's address: /omemo trust user@server FINGERPRINT")
	h.command("/omemo devices dave")
	h.waitFor("dave is no one's address: OMEMO devices belong to accounts")
	h.command("/omemo devices dave@x")
	h.waitCommands(chat.ShowOMEMO{JID: "dave@x"})
}
