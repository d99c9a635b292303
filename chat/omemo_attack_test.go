package chat

import (
	"context"
	crand "crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/omemo"
	"mellium.im/xmpp/jid"
)

// sessionWith is a session alice's device dev starts with peer's device,
// as stored (either version), known to the peer by id.
func sessionWith(t *testing.T, dev, peer *omemo.Device, v history.Version) []byte {
	t.Helper()
	if v == history.OMEMO2 {
		pub := peer.PublishBundle2()
		b, err := pub.Choose(crand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		out, err := omemo.EncryptMessage2(crand.Reader, dev, []byte("hello"), []omemo.Recipient2{{DeviceID: peer.ID(), Bundle: b}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Sessions[0].Marshal()
	}
	pub := peer.PublishBundle03()
	b, err := pub.Choose(crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	out, err := omemo.EncryptMessage03(crand.Reader, dev, []byte("hello"), []omemo.Recipient03{{DeviceID: peer.ID(), Bundle: b}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Sessions[0].Marshal()
}

// A contact (or its server) publishes a device with the id of another
// device of ours (device lists are public). A message to that contact
// must not take the contact's device's session for our own device's: if
// it did, what gab encrypts to its own other device from then on —
// in every chat and room, across restarts — would be readable by the
// contact's device instead. Checked in each version.
func TestOMEMOContactDeviceWithOurDeviceID(t *testing.T) {
	for _, v := range []history.Version{history.OMEMO03, history.OMEMO2} {
		t.Run(chatVersion(v).String(), func(t *testing.T) {
			ctx := context.Background()
			store, err := history.Open(filepath.Join(t.TempDir(), "h.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { store.Close() })
			c := New(&config.Account{JID: jid.MustParse("alice@localhost/gab")}, Options{Store: store, OMEMO: true})
			c.omemo.mu.Lock()
			dev, err := c.omemoDevice(ctx)
			c.omemo.mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			other, err := omemo.NewDevice(crand.Reader, time.Now()) // our phone
			if err != nil {
				t.Fatal(err)
			}
			mallory, err := omemo.NewDevice(crand.Reader, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			x := other.ID()
			inRosterOf(c, "mallory@localhost")
			for _, w := range []history.Version{history.OMEMO03, history.OMEMO2} {
				if w != v {
					c.listRead("alice@localhost", w, true)
					c.listRead("mallory@localhost", w, true)
				}
			}
			if _, err := store.SaveDeviceList(ctx, "alice@localhost", v, []history.ListedDevice{{ID: dev.ID()}, {ID: x}}, time.Now()); err != nil {
				t.Fatal(err)
			}
			// Mallory lists her device under our phone's id.
			if _, err := store.SaveDeviceList(ctx, "mallory@localhost", v, []history.ListedDevice{{ID: x}}, time.Now()); err != nil {
				t.Fatal(err)
			}
			ours := history.SessionKey{JID: "alice@localhost", Device: x, Version: v}
			hers := history.SessionKey{JID: "mallory@localhost", Device: x, Version: v}
			if err := store.Commit(history.Batch{Sessions: []history.Session{
				{SessionKey: ours, State: sessionWith(t, dev, other, v)},
				{SessionKey: hers, State: sessionWith(t, dev, mallory, v)},
			}}); err != nil {
				t.Fatal(err)
			}

			enc, sessions, encErr := c.omemoEncrypt(ctx, nil, "mallory@localhost", "hi")
			identityOf := func(state []byte) [omemo.KeySize]byte {
				if v == history.OMEMO2 {
					s, err := omemo.UnmarshalSession2(state)
					if err != nil {
						t.Fatal(err)
					}
					ed := s.PeerIdentity()
					x, err := omemo.IdentityX25519(&ed)
					if err != nil {
						t.Fatal(err)
					}
					return x
				}
				s, err := omemo.UnmarshalSession03(state)
				if err != nil {
					t.Fatal(err)
				}
				return s.PeerIdentity()
			}
			for _, s := range sessions {
				if s.SessionKey == ours && identityOf(s.State) != other.IdentityKey() {
					t.Fatal("the session stored for our own other device is one with the contact's device")
				}
			}
			c.omemo.mu.Lock()
			var held []byte
			if s, ok := c.omemo.sessions[ours]; ok {
				held = s.Marshal()
			}
			if s, ok := c.omemo.v2.sessions[ours]; ok {
				held = s.Marshal()
			}
			c.omemo.mu.Unlock()
			if held != nil && identityOf(held) != other.IdentityKey() {
				t.Fatal("the session held for our own other device is one with the contact's device")
			}
			// The contact still gets the message, under her own JID.
			if encErr != nil {
				t.Fatal(encErr)
			}
			if enc.Version != chatVersion(v) || v == history.OMEMO2 && enc.KeyFor("mallory@localhost", x) == nil {
				t.Fatalf("no key for the contact's device: %+v", enc)
			}
		})
	}
}

// A server that removes the <payload/> of an OMEMO 2 message leaves what
// looks like an empty message (a key transport). It was taken as one:
// the message vanished without a word, its session advanced (and its
// pre-key taken), so that the whole message, coming later from the
// archive, was refused as a replay. Now it is said, and the whole copy
// still reads.
func TestOMEMO2StrippedPayloadNoted(t *testing.T) {
	ctx := context.Background()
	store, err := history.Open(filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c := New(&config.Account{JID: jid.MustParse("alice@localhost/gab")}, Options{Store: store, OMEMO: true})
	c.omemo.mu.Lock()
	dev, err := c.omemoDevice(ctx)
	c.omemo.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	bob, err := omemo.NewDevice(crand.Reader, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pub := dev.PublishBundle2()
	b, err := pub.Choose(crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	env, err := sealEnvelope(crand.Reader, "meet at noon", "bob@localhost", "alice@localhost", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	out, err := omemo.EncryptMessage2(crand.Reader, bob, env, []omemo.Recipient2{{DeviceID: dev.ID(), Bundle: b}})
	if err != nil {
		t.Fatal(err)
	}
	enc := &OMEMOEncrypted{Version: OMEMO2, SID: bob.ID(), Payload: out.Payload,
		Keys: []OMEMOKey{{RID: dev.ID(), JID: "alice@localhost", PreKey: out.Keys[0].Kex, Data: out.Keys[0].Data}}}
	stripped := *enc
	stripped.Payload = nil
	conv := ChatWith("bob@localhost")
	got := c.omemoIncoming(ctx, OMEMOKeyTransport{Conv: conv, From: "bob@localhost/x", Bare: "bob@localhost", Encrypted: &stripped})
	if n, ok := got.(Notice); !ok || !strings.Contains(n.Text, "without its content") {
		t.Fatalf("a message without its payload gave %#v", got)
	}
	m, ok := c.omemoIncoming(ctx, MessageReceived{Conv: conv, Bare: "bob@localhost", From: "bob@localhost/x", Encrypted: enc, Note: OMEMOUnreadNote}).(MessageReceived)
	if !ok || m.Body != "meet at noon" || m.Note != "" {
		t.Fatalf("the whole message then read as %+v", m)
	}
}
