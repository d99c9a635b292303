package chat

import (
	"cmp"
	"time"

	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// Namespaces of message carbons (XEP-0280) and forwarding (XEP-0297).
const (
	NSCarbons = "urn:xmpp:carbons:2"
	NSForward = "urn:xmpp:forward:0"
)

// CarbonSent is a message the user sent from another device of the same
// account (XEP-0280 sent carbon): it belongs in the conversation Conv.
type CarbonSent struct {
	Conv      Conv
	ID        string
	To        string // the address it was sent to
	Body      string
	Thread    string
	Time      time.Time
	OriginID  string
	StoreID   int64
	ArchiveID string
	// Delayed: sent a while ago (from the archive while catching up, or
	// with a delay stamp), Time being the server's.
	Delayed bool
	// Reply and File: what it answers (Body is without the fallback
	// quote) and the file it shares.
	Reply *ReplyInfo
	File  *FileInfo
	// Encrypted: sent with OMEMO (see MessageReceived.Encrypted); Body
	// is "" until gab can decrypt it.
	Encrypted *OMEMOEncrypted
	OMEMO     *OMEMOInfo // as in MessageReceived
}

func (CarbonSent) isEvent() {}

// translateCarbon handles a message that wraps a carbon. It reports false
// when el is no carbon. A carbon is a copy of a message made by the user's
// own server, so it must come from the user's own bare JID: anything else
// is a forgery (the CVE-2017-5589 class), dropped and reported.
func translateCarbon(self Self, el *xmpp.Element) ([]Event, bool) {
	wrap := el.Child(NSCarbons, "received")
	sent := false
	if wrap == nil {
		if wrap = el.Child(NSCarbons, "sent"); wrap == nil {
			return nil, false
		}
		sent = true
	}
	if !fromOwnAccount(self, el) {
		return []Event{Notice{Text: "dropped a forged carbon from " + el.Get("from") + " (carbons come only from your own account)"}}, true
	}
	inner := wrap.Child(NSForward, "forwarded").Child(xmpp.NSClient, "message")
	if inner == nil {
		return nil, true
	}
	// The archive id our server gave the message (XEP-0359 stanza-id by
	// our account): on the forwarded message, where Prosody puts it, or on
	// the carbon itself. Trusted because the carbon is our server's.
	aid := archiveID(self, inner)
	if aid == "" {
		aid = archiveID(self, el)
	}
	if !sent {
		// A message to another of our devices: handle it as if it had come
		// here (its own sender check applies).
		evs := translateMessage(self, inner)
		if from, ok := sender(self, inner); ok && peerConv(self, inner, from).Kind == KindPrivate {
			if typ := inner.Get("type"); typ == "chat" || typ == "normal" || typ == "" {
				// Another device's private message in a room this one is not in.
				evs = translateRoomMessage(self, inner, from, cmp.Or(typ, "normal"))
			}
		}
		carbon := func(m MessageReceived) MessageReceived {
			m.Carbon = true
			if m.ArchiveID == "" {
				m.ArchiveID = aid
			}
			return m
		}
		for i, ev := range evs {
			switch m := ev.(type) {
			case MessageReceived:
				evs[i] = carbon(m)
			case MessageCorrected:
				m.AsMessage = carbon(m.AsMessage)
				evs[i] = m
			case OMEMOKeyTransport:
				m.Carbon = true
				evs[i] = m
			}
		}
		return evs, true
	}
	to, err := jid.Parse(inner.Get("to"))
	if err != nil {
		return []Event{Notice{Text: "dropped a sent carbon with an invalid recipient"}}, true
	}
	conv := peerConv(self, inner, to)
	if a, ok := translateAction(self, inner, conv, self.JID.String(), self.JID.Bare().String(), "", "", true); ok {
		return []Event{a}, true // our reaction or retraction, from another device
	}
	t, delayed := delayStamp(self, inner)
	if enc, err := omemoIn(inner); err != errNoOMEMO {
		switch {
		case err != nil:
			return []Event{Notice{Text: "dropped an encrypted message sent from another of your devices: " + err.Error()}}, true
		case enc.Payload == nil:
			// From the device that sent it (its sender, checked: ours).
			from := self.JID.Bare()
			if f, ok := sender(self, inner); ok && f.Bare().Equal(from) {
				from = f
			}
			return []Event{OMEMOKeyTransport{Conv: conv, From: from.String(), Bare: from.Bare().String(), Encrypted: enc, Carbon: true}}, true
		}
		return []Event{CarbonSent{
			Conv: conv, ID: inner.Get("id"), To: conv.JID, Thread: inner.ChildText(xmpp.NSClient, "thread"),
			Time: t, OriginID: inner.Child(NSSID, "origin-id").Get("id"), ArchiveID: aid, Delayed: delayed, Encrypted: enc,
		}}, true
	}
	body, ok := pickByLang(inner, "body", self.Lang)
	if !ok || body == "" {
		return nil, true // a chat state or marker from another device
	}
	shown, reply, file := decorate(inner, body)
	return []Event{CarbonSent{
		Conv: conv, ID: inner.Get("id"), To: conv.JID, Body: shown, Thread: inner.ChildText(xmpp.NSClient, "thread"),
		Time: t, OriginID: inner.Child(NSSID, "origin-id").Get("id"), ArchiveID: aid, Delayed: delayed, Reply: reply, File: file,
	}}, true
}
