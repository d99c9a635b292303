package ui

import (
	"fmt"
	"strings"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/roster"
)

// OMEMO in the interface: whether the current chat is encrypted (the
// composer says so), the /omemo command, and a mark on each line that
// was encrypted, or that came in plain text into an encrypted chat.

// Encryption settings of a conversation, set by /omemo on and off.
const (
	omemoAuto = 0 // encrypted when the contact has OMEMO devices, or once it was
	omemoOn   = 1
	omemoOff  = -1
)

// encrypting reports whether a message typed in c now goes encrypted:
// only in chats, with OMEMO on for the account; as /omemo said, else
// once the chat has seen an encrypted message (it never falls back to
// plain text by itself), else, unless omemo_policy is manual, when the
// contact has published devices (as Conversations does).
func (s *State) encrypting(c *Conversation) bool {
	a := s.Account(c.Account)
	if a != nil && a.OMEMO && c.Conv.Kind == chat.KindRoom {
		return s.roomEncrypting(a, c) // omemo_room.go
	}
	if a == nil || !a.OMEMO || c.Conv.Kind != chat.KindChat {
		return false
	}
	switch c.omemo {
	case omemoOn:
		return true
	case omemoOff:
		return false
	}
	n := a.omemoDevices[c.Conv.JID]
	return c.encrypted || (!a.OMEMOManual && n[chat.OMEMO03]+n[chat.OMEMO2] > 0)
}

// omemoLookUp asks for jid's device lists (both versions) when the user
// opens a chat with someone whose lists gab is not sent — no contact, or
// one whose presence we do not see (PEP notifications follow presence
// subscriptions) — once a run: then a chat with such a person is
// encrypted when they have OMEMO devices, as one with a contact is,
// instead of going in plain text until /omemo on. Only on the user's
// opening: asking when a stranger writes would tell them we are online.
func (a *App) omemoLookUp(account, jid string) {
	acct := a.state.Account(account)
	if acct == nil || !acct.OMEMO || acct.Client == nil || acct.Conn != "online" || acct.omemoAsked[jid] {
		return
	}
	if _, known := acct.omemoDevices[jid]; known {
		return
	}
	if c := acct.Roster.Get(jid); c != nil && (c.Subscription == roster.SubTo || c.Subscription == roster.SubBoth) {
		return // its lists come by themselves
	}
	if acct.omemoAsked == nil {
		acct.omemoAsked = map[string]bool{}
	}
	acct.omemoAsked[jid] = true
	acct.Client.Do(chat.FetchOMEMODevices{JID: jid, Version: chat.OMEMO03})
	acct.Client.Do(chat.FetchOMEMODevices{JID: jid, Version: chat.OMEMO2})
}

// omemoLine notes a message line's encryption in c: an encrypted one
// makes the chat encrypted from then on; a plaintext one in an encrypted
// chat is marked.
func (s *State) omemoLine(c *Conversation, l *Line, info *chat.OMEMOInfo) {
	l.Enc = info
	if info != nil {
		c.encrypted = true
		return
	}
	l.Plain = (l.Kind == LineIn || l.Kind == LineOut) && s.encrypting(c)
}

// omemoMark is what a line shows before its sender: a closed lock for a
// message encrypted by a trusted device (or by this one: what it sent
// has no trust of its own in the store), an open one for an encrypted
// message from a device not trusted — another device of our account
// too, "sending" as us — "(plain)" for a message in plain text in an
// encrypted chat.
func omemoMark(l *Line) string {
	switch {
	case l.Enc != nil && (l.Enc.Trust == history.TrustTrusted || l.Enc.Trust == history.TrustVerified || (l.Kind == LineOut && l.Enc.Trust == "")):
		return "🔒 "
	case l.Enc != nil:
		return "🔓 "
	case l.Plain:
		return "(plain) "
	}
	return ""
}

// omemoCommand is /omemo [on|off|fingerprint|devices [JID]|trust JID FP|distrust JID FP].
func (a *App) omemoCommand(rest string) {
	c := a.state.Current()
	f := strings.Fields(rest)
	acct := a.state.Account(c.Account)
	if c.IsConsole() && len(a.state.Accounts) > 0 {
		acct = a.state.Accounts[0]
	}
	if acct == nil || acct.Client == nil {
		return
	}
	if !acct.OMEMO {
		a.state.SetStatus(true, "OMEMO is off for %s: omemo = true in its account file turns it on", acct.Name)
		return
	}
	verb := ""
	if len(f) > 0 {
		verb = f[0]
	}
	switch verb {
	case "", "on", "off":
		if !c.IsConsole() && c.Conv.Kind == chat.KindRoom {
			a.roomOMEMOCommand(acct, c, verb) // omemo_room.go
			return
		}
		if !c.IsConsole() && c.Conv.Kind == chat.KindPrivate {
			a.state.SetStatus(true, "private messages in a room are not encrypted (gab encrypts chats with contacts and rooms)")
			return
		}
		if c.IsConsole() || c.Conv.Kind != chat.KindChat {
			a.state.SetStatus(true, "encryption is for chats and rooms: open one first")
			return
		}
		switch verb {
		case "on":
			c.omemo = omemoOn
		case "off":
			c.omemo = omemoOff
		}
		if a.state.encrypting(c) {
			a.omemoSay(c, false, "messages in this chat are encrypted (OMEMO); /omemo off sends them in plain text")
		} else {
			a.omemoSay(c, false, "messages in this chat go in plain text; /omemo on encrypts them")
		}
	case "fingerprint":
		acct.Client.Do(chat.ShowOMEMO{})
	case "devices":
		jid := ""
		if len(f) > 1 {
			if jid = f[1]; !strings.Contains(jid, "@") {
				a.state.SetStatus(true, "%s is no one's address: OMEMO devices belong to accounts, user@server", jid)
				return
			}
		} else if !c.IsConsole() && c.Conv.Kind == chat.KindChat {
			jid = c.Conv.JID
		} else if !c.IsConsole() && c.Conv.Kind == chat.KindRoom {
			acct.Client.Do(chat.ShowRoomOMEMO{Room: c.Conv.JID}) // its members' devices
			return
		}
		acct.Client.Do(chat.ShowOMEMO{JID: jid})
	case "trust", "distrust":
		if len(f) < 3 {
			a.state.SetStatus(true, "/omemo %s JID FINGERPRINT (the fingerprint as /omemo devices JID shows it)", verb)
			return
		}
		if !strings.Contains(f[1], "@") {
			a.state.SetStatus(true, "%s is no one's address: /omemo %s user@server FINGERPRINT", f[1], verb)
			return
		}
		t := history.TrustVerified
		if verb == "distrust" {
			t = history.TrustDistrusted
		}
		acct.Client.Do(chat.SetOMEMOTrust{JID: f[1], Fingerprint: strings.Join(f[2:], ""), Trust: t})
		a.state.SetStatus(false, "%s the device of %s with that fingerprint…", map[string]string{"trust": "trusting", "distrust": "distrusting"}[verb], f[1])
	default:
		a.state.SetStatus(true, "/omemo on, off, fingerprint, devices [JID], trust JID FINGERPRINT or distrust JID FINGERPRINT")
	}
}

// omemoSay answers /omemo, /omemo on and off in the status line and in
// the conversation c, where it stays whole (the status line cuts a long
// reason short in a narrow terminal) and tells when the setting changed.
func (a *App) omemoSay(c *Conversation, isErr bool, format string, args ...any) {
	a.state.SetStatus(isErr, format, args...)
	kind := LineInfo
	if isErr {
		kind = LineError
	}
	c.add(Line{Time: a.state.Now(), Kind: kind, Body: fmt.Sprintf(format, args...)})
}

// omemoReport shows what /omemo fingerprint or devices asked, in the
// current tab.
func (s *State) omemoReport(e chat.OMEMOReport) {
	c := s.Current()
	add := func(format string, args ...any) {
		c.add(Line{Time: s.Now(), Kind: LineInfo, Body: fmt.Sprintf(format, args...)})
	}
	add("this device: OMEMO %d, fingerprint %s", e.OwnID, e.OwnFingerprint)
	if len(e.Devices) == 0 {
		add("%s: no OMEMO device known", e.JID)
		return
	}
	for _, d := range e.Devices {
		add("%s", deviceLine(e.JID, d, e.Own && d.ID == e.OwnID))
	}
}

// deviceLine is how /omemo devices shows one of jid's devices: its id,
// the version it is spoken to in, whether it is still listed, its trust
// ("this device" for ours) and its fingerprint.
func deviceLine(jid string, d chat.OMEMODeviceInfo, ours bool) string {
	state := "active"
	if !d.Active {
		state = "gone from its list"
	}
	fp := d.Fingerprint
	if fp == "" {
		fp = "(not known until a message is exchanged)"
	}
	trust := string(d.Trust)
	if trust == "" {
		trust = string(history.TrustUndecided)
	}
	if ours {
		trust = "this device"
	}
	return fmt.Sprintf("%s device %d (%s, %s, %s): %s", jid, d.ID, d.Version, state, trust, fp)
}

// omemoTrustSet confirms /omemo trust or distrust in the current tab.
func (s *State) omemoTrustSet(e chat.OMEMOTrustSet) {
	ids := make([]string, len(e.Devices))
	for i, id := range e.Devices {
		ids[i] = fmt.Sprint(id)
	}
	what := "device " + strings.Join(ids, ", ")
	if len(ids) > 1 {
		what = "devices " + strings.Join(ids, ", ")
	}
	var body string
	switch e.Trust {
	case history.TrustDistrusted:
		body = fmt.Sprintf("%s %s (fingerprint %s) is distrusted: nothing is encrypted to it, and its messages show 🔓", e.JID, what, e.Fingerprint)
	default:
		body = fmt.Sprintf("%s %s (fingerprint %s) is %s: what you send is encrypted to it, and its messages show 🔒", e.JID, what, e.Fingerprint, e.Trust)
	}
	c := s.Current()
	c.add(Line{Time: s.Now(), Kind: LineInfo, Body: body})
	s.SetStatus(false, "%s %s is %s", e.JID, what, e.Trust)
}

// omemoRefused puts back in the empty composer what an encrypted
// message refused in the current tab said, and an /omemo trust or
// distrust that failed (a fingerprint mistyped): nothing typed is lost.
func (a *App) omemoRefused(account string, e chat.CommandFailed) {
	c := a.state.Current()
	if c.Account != account || a.composer.GetText() != "" {
		return
	}
	switch cmd := e.Command.(type) {
	case chat.SendMessage:
		if cmd.Encrypt && c.Conv == cmd.Conv {
			a.composer.SetText(cmd.Body, true)
		}
	case chat.SetOMEMOTrust:
		verb := "trust"
		if cmd.Trust == history.TrustDistrusted {
			verb = "distrust"
		}
		a.composer.SetText("/omemo "+verb+" "+cmd.JID+" "+cmd.Fingerprint, true)
	}
}
