package omemo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The in-process interoperation test: python3-omemo's SessionManager with
// the python3-oldmemo backend (testdata/oldmemo_peer.py) and gab's
// package exchange bundles and messages both ways. It needs Debian's
// python3-omemo and python3-oldmemo under /usr/bin/python3 (make
// test-deps installs them) and fails without them.

type peerBundle struct {
	IdentityKey    string `json:"identity_key"`
	SignedPreKey   string `json:"signed_pre_key"`
	SignedPreKeyID uint32 `json:"signed_pre_key_id"`
	Signature      string `json:"signed_pre_key_signature"`
	PreKeys        []struct {
		ID  uint32 `json:"id"`
		Key string `json:"key"`
	} `json:"pre_keys"`
}

type peerKey struct {
	RID    uint32 `json:"rid"`
	PreKey bool   `json:"prekey"`
	Data   string `json:"data"`
}

type peerMessage struct {
	SID     uint32    `json:"sid"`
	Keys    []peerKey `json:"keys"`
	IV      string    `json:"iv"`
	Payload *string   `json:"payload,omitempty"`
}

type peerReply struct {
	DeviceID  uint32        `json:"device_id"`
	Bundle    *peerBundle   `json:"bundle"`
	Source    string        `json:"source"`
	Message   *peerMessage  `json:"message"`
	Plaintext *string       `json:"plaintext"`
	Error     string        `json:"error"`
	Sent      []peerMessage `json:"sent"`
}

var b64 = base64.StdEncoding

type oldmemoPeer struct {
	t      *testing.T
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Scanner
	stderr *bytes.Buffer
	id     uint32
	bundle PublishedBundle03
}

func startOldmemoPeer(t *testing.T, ownJID, peerJID string, devices ...*Device) *oldmemoPeer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	p := &oldmemoPeer{t: t, stderr: &bytes.Buffer{}}
	p.cmd = exec.CommandContext(ctx, "/usr/bin/python3", "testdata/oldmemo_peer.py")
	p.cmd.Stderr = p.stderr
	var err error
	if p.in, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting the python3-oldmemo peer (install python3-omemo and python3-oldmemo: make test-deps): %v", err)
	}
	t.Cleanup(func() {
		p.in.Close()
		if err := p.cmd.Wait(); err != nil && !t.Failed() {
			t.Errorf("the peer exited: %v\n%s", err, p.stderr)
		}
	})
	p.out = bufio.NewScanner(stdout)
	p.out.Buffer(make([]byte, 0, 1<<20), 1<<24)

	bundles := map[string]peerBundle{}
	for _, d := range devices {
		bundles[fmt.Sprint(d.ID())] = toPeerBundle(d.PublishBundle03())
	}
	r := p.call(map[string]any{"cmd": "init", "own_jid": peerJID, "peer_jid": ownJID, "peer_devices": bundles})
	if r.Bundle == nil || r.DeviceID == 0 {
		t.Fatalf("the peer gave no bundle: %+v", r)
	}
	t.Logf("peer: %s, device %d", r.Source, r.DeviceID)
	p.id = r.DeviceID
	p.bundle = fromPeerBundle(t, r.Bundle)
	return p
}

func (p *oldmemoPeer) call(req map[string]any) *peerReply {
	p.t.Helper()
	line, err := json.Marshal(req)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.in.Write(append(line, '\n')); err != nil {
		p.t.Fatalf("writing to the peer: %v\n%s", err, p.stderr)
	}
	if !p.out.Scan() {
		p.t.Fatalf("the python3-oldmemo peer stopped (are python3-omemo and python3-oldmemo installed? make test-deps): %v\n%s", p.out.Err(), p.stderr)
	}
	var r peerReply
	if err := json.Unmarshal(p.out.Bytes(), &r); err != nil {
		p.t.Fatalf("the peer said %q: %v", p.out.Bytes(), err)
	}
	return &r
}

func toPeerBundle(b PublishedBundle03) peerBundle {
	out := peerBundle{IdentityKey: b64.EncodeToString(b.IdentityKey), SignedPreKey: b64.EncodeToString(b.SignedPreKey),
		SignedPreKeyID: b.SignedPreKeyID, Signature: b64.EncodeToString(b.SignedPreKeySignature)}
	for _, k := range b.PreKeys {
		out.PreKeys = append(out.PreKeys, struct {
			ID  uint32 `json:"id"`
			Key string `json:"key"`
		}{k.ID, b64.EncodeToString(k.Key)})
	}
	return out
}

func fromPeerBundle(t *testing.T, b *peerBundle) PublishedBundle03 {
	dec := func(s string) []byte {
		v, err := b64.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	out := PublishedBundle03{IdentityKey: dec(b.IdentityKey), SignedPreKey: dec(b.SignedPreKey),
		SignedPreKeyID: b.SignedPreKeyID, SignedPreKeySignature: dec(b.Signature)}
	for _, k := range b.PreKeys {
		out.PreKeys = append(out.PreKeys, PublishedPreKey{ID: k.ID, Key: dec(k.Key)})
	}
	return out
}

func toPeerMessage(sid uint32, e *Encrypted03) peerMessage {
	m := peerMessage{SID: sid, IV: b64.EncodeToString(e.IV[:])}
	for _, k := range e.Keys {
		m.Keys = append(m.Keys, peerKey{RID: k.RID, PreKey: k.PreKey, Data: b64.EncodeToString(k.Data)})
	}
	if e.Payload != nil {
		s := b64.EncodeToString(e.Payload)
		m.Payload = &s
	}
	return m
}

// gabDevice is one of gab's devices talking to the peer, committing its
// state the way the store will.
type gabDevice struct {
	t       *testing.T
	dev     *Device
	rand    io.Reader
	session []byte // with the peer's device, marshalled
}

func (g *gabDevice) stored() *Session03 {
	if g.session == nil {
		return nil
	}
	s, err := UnmarshalSession03(g.session)
	if err != nil {
		g.t.Fatal(err)
	}
	return s
}

func (g *gabDevice) encrypt(p *oldmemoPeer, plaintext string) peerMessage {
	g.t.Helper()
	r := Recipient03{DeviceID: p.id, Session: g.stored()}
	if r.Session == nil {
		b, err := p.bundle.Choose(g.rand)
		if err != nil {
			g.t.Fatalf("the peer's bundle: %v", err)
		}
		r.Bundle = b
	}
	e, err := EncryptMessage03(g.rand, g.dev, []byte(plaintext), []Recipient03{r})
	if err != nil {
		g.t.Fatal(err)
	}
	g.session = e.Sessions[0].Marshal()
	return toPeerMessage(g.dev.ID(), e)
}

// decrypt reads the key for this device; ok is false when the message
// has none.
func (g *gabDevice) decrypt(m peerMessage) (d *Decrypted03, ok bool, err error) {
	g.t.Helper()
	for _, k := range m.Keys {
		if k.RID != g.dev.ID() {
			continue
		}
		data, err1 := b64.DecodeString(k.Data)
		iv, err2 := b64.DecodeString(m.IV)
		var payload []byte
		var err3 error
		if m.Payload != nil {
			payload, err3 = b64.DecodeString(*m.Payload)
			if payload == nil {
				payload = []byte{}
			}
		}
		if err1 != nil || err2 != nil || err3 != nil {
			g.t.Fatalf("base64 from the peer: %v %v %v", err1, err2, err3)
		}
		d, err := DecryptMessage03(g.rand, g.dev, g.stored(), KeyElement03{RID: k.RID, PreKey: k.PreKey, Data: data}, iv, payload)
		if err != nil {
			return nil, true, err
		}
		if d.UsedPreKey {
			c := g.dev.Clone()
			if err := c.TakePreKey(g.rand, d.PreKeyID); err != nil {
				g.t.Fatal(err)
			}
			g.dev = c
		}
		g.session = d.Session.Marshal()
		return d, true, nil
	}
	return nil, false, nil
}

func (g *gabDevice) mustRead(p *oldmemoPeer, m peerMessage, want string) *Decrypted03 {
	g.t.Helper()
	d, ok, err := g.decrypt(m)
	if !ok || err != nil {
		g.t.Fatalf("device %d: key present %v: %v", g.dev.ID(), ok, err)
	}
	if string(d.Plaintext) != want || d.Empty {
		g.t.Fatalf("device %d read %q (empty %v), want %q", g.dev.ID(), d.Plaintext, d.Empty, want)
	}
	if FormatFingerprint(&d.PeerIdentity) != FormatFingerprint(peerIdentity(g.t, p)) {
		g.t.Fatal("the message's identity is not the peer's published one")
	}
	return d
}

func peerIdentity(t *testing.T, p *oldmemoPeer) *[KeySize]byte {
	k, err := DecodePublicKey03(p.bundle.IdentityKey)
	if err != nil {
		t.Fatal(err)
	}
	return &k
}

// deliver hands the peer's own messages (empty answers to pre-key
// messages) to gab's devices; each must decrypt as an empty message.
func deliver(t *testing.T, r *peerReply, devs ...*gabDevice) int {
	t.Helper()
	n := 0
	for _, m := range r.Sent {
		if m.Payload != nil {
			t.Fatalf("the peer sent a message with a payload by itself: %+v", m)
		}
		for _, g := range devs {
			d, ok, err := g.decrypt(m)
			if !ok {
				continue
			}
			if err != nil || !d.Empty {
				t.Fatalf("device %d: the peer's empty message: %+v %v", g.dev.ID(), d, err)
			}
			n++
		}
	}
	return n
}

func (p *oldmemoPeer) mustDecrypt(m peerMessage, want string) *peerReply {
	p.t.Helper()
	r := p.call(map[string]any{"cmd": "decrypt", "message": m})
	if r.Error != "" || r.Plaintext == nil {
		p.t.Fatalf("the peer refused our message: %s", r.Error)
	}
	if got, _ := b64.DecodeString(*r.Plaintext); string(got) != want {
		p.t.Fatalf("the peer read %q, want %q", got, want)
	}
	return r
}

func (p *oldmemoPeer) encrypt(plaintext string) *peerReply {
	p.t.Helper()
	r := p.call(map[string]any{"cmd": "encrypt", "plaintext": b64.EncodeToString([]byte(plaintext))})
	if r.Error != "" || r.Message == nil {
		p.t.Fatalf("the peer could not encrypt: %s", r.Error)
	}
	return r
}

func isPreKey(m peerMessage, rid uint32) bool {
	for _, k := range m.Keys {
		if k.RID == rid {
			return k.PreKey
		}
	}
	return false
}

func TestInteropOldmemo(t *testing.T) {
	const ourJID, peerJID = "gab@example.org", "peer@example.org"
	a := &gabDevice{t: t, dev: newTestDevice(t, 101), rand: detRand(1101)}
	b := &gabDevice{t: t, dev: newTestDevice(t, 102), rand: detRand(1102)}
	p := startOldmemoPeer(t, ourJID, peerJID, a.dev, b.dev)

	// Our pre-key message to them; they answer with an empty message,
	// after which ours are normal messages.
	m := a.encrypt(p, "hello from gab")
	if !isPreKey(m, p.id) {
		t.Fatal("gab's first message is not a pre-key message")
	}
	r := p.mustDecrypt(m, "hello from gab")
	if deliver(t, r, a, b) != 1 {
		t.Fatalf("expected the peer's empty answer to device A, got %+v", r.Sent)
	}
	if m := a.encrypt(p, "second"); isPreKey(m, p.id) {
		t.Fatal("still a pre-key message after the peer's answer")
	} else {
		p.mustDecrypt(m, "second")
	}

	// Theirs to us: to A through the session, to B a pre-key message.
	r = p.encrypt("hello from oldmemo")
	if isPreKey(*r.Message, a.dev.ID()) || !isPreKey(*r.Message, b.dev.ID()) {
		t.Fatalf("the peer's keys: %+v", r.Message.Keys)
	}
	a.mustRead(p, *r.Message, "hello from oldmemo")
	before := b.dev.PreKeyIDs()
	if d := b.mustRead(p, *r.Message, "hello from oldmemo"); !d.NewSession || !d.UsedPreKey {
		t.Fatalf("device B did not build a session from the peer's pre-key message: %+v", d)
	}
	if ids := b.dev.PreKeyIDs(); len(ids) != NumPreKeys || ids[NumPreKeys-1] != before[NumPreKeys-1]+1 {
		t.Fatal("device B's used pre-key was not replaced")
	}
	// A replay of their pre-key message is refused and changes nothing.
	sessB, devB := b.session, b.dev.Marshal()
	if _, _, err := b.decrypt(*r.Message); err == nil {
		t.Fatal("device B read the peer's pre-key message twice")
	}
	if !bytes.Equal(sessB, b.session) || !bytes.Equal(devB, b.dev.Marshal()) {
		t.Fatal("a refused replay changed device B's state")
	}
	// B answers with an empty message, as clients do after a pre-key
	// message; the peer reads it and stops sending pre-key messages.
	empty, err := EncryptEmpty03(b.rand, b.dev, []Recipient03{{DeviceID: p.id, Session: b.stored()}})
	if err != nil || empty.Keys[0].PreKey || empty.Payload != nil {
		t.Fatalf("empty answer: %+v %v", empty, err)
	}
	b.session = empty.Sessions[0].Marshal()
	if r := p.call(map[string]any{"cmd": "decrypt", "message": toPeerMessage(b.dev.ID(), empty)}); r.Error != "" || r.Plaintext != nil {
		t.Fatalf("the peer on our empty message: %+v", r)
	}
	r = p.encrypt("after the empty answer")
	if isPreKey(*r.Message, b.dev.ID()) {
		t.Fatal("the peer still sends pre-key messages after our empty answer")
	}
	a.mustRead(p, *r.Message, "after the empty answer")
	b.mustRead(p, *r.Message, "after the empty answer")

	// B writes: a normal message.
	m = b.encrypt(p, "B answers")
	if isPreKey(m, p.id) {
		t.Fatal("the responder sent a pre-key message")
	}
	deliver(t, p.mustDecrypt(m, "B answers"), a, b)

	// Several turns of the ratchet each way.
	for i := 0; i < 4; i++ {
		for _, g := range []*gabDevice{a, b} {
			text := fmt.Sprintf("gab %d turn %d", g.dev.ID(), i)
			deliver(t, p.mustDecrypt(g.encrypt(p, text), text), a, b)
		}
		text := fmt.Sprintf("oldmemo turn %d", i)
		r := p.encrypt(text)
		a.mustRead(p, *r.Message, text)
		b.mustRead(p, *r.Message, text)
	}

	// Out of order, their way: three messages read 3, 1, 2 by A and
	// 2, 3, 1 by B; a replay refused.
	var theirs []peerMessage
	for i := 0; i < 3; i++ {
		theirs = append(theirs, *p.encrypt(fmt.Sprintf("theirs %d", i)).Message)
	}
	for _, i := range []int{2, 0, 1} {
		a.mustRead(p, theirs[i], fmt.Sprintf("theirs %d", i))
	}
	for _, i := range []int{1, 2, 0} {
		b.mustRead(p, theirs[i], fmt.Sprintf("theirs %d", i))
	}
	sessA := a.session
	if _, _, err := a.decrypt(theirs[0]); err == nil || !bytes.Equal(sessA, a.session) {
		t.Fatalf("replay: %v, state changed %v", err, !bytes.Equal(sessA, a.session))
	}

	// Out of order, our way, across a turn of the ratchet: two messages,
	// the peer answers the first only, two more; read 4, 2, 3, 1.
	ours := []peerMessage{a.encrypt(p, "ours 0"), a.encrypt(p, "ours 1")}
	deliver(t, p.mustDecrypt(ours[0], "ours 0"), a, b)
	r = p.encrypt("turn")
	a.mustRead(p, *r.Message, "turn")
	b.mustRead(p, *r.Message, "turn")
	ours = append(ours, a.encrypt(p, "ours 2"), a.encrypt(p, "ours 3"))
	for _, i := range []int{3, 1, 2} {
		deliver(t, p.mustDecrypt(ours[i], fmt.Sprintf("ours %d", i)), a, b)
	}
	// The peer refuses a replay and a tampered message, and goes on.
	if r := p.call(map[string]any{"cmd": "decrypt", "message": ours[2]}); r.Error == "" {
		t.Fatal("the peer read a replayed message")
	}
	tampered := a.encrypt(p, "tampered")
	pl := []byte(*tampered.Payload)
	pl[2] ^= 1 // still base64, another payload
	s := string(pl)
	tampered.Payload = &s
	if r := p.call(map[string]any{"cmd": "decrypt", "message": tampered}); r.Error == "" || !strings.Contains(r.Error, "ecrypt") {
		t.Fatalf("the peer read a tampered message: %+v", r)
	}
	deliver(t, p.mustDecrypt(a.encrypt(p, "after all that"), "after all that"), a, b)
	r = p.encrypt("the end")
	a.mustRead(p, *r.Message, "the end")
	b.mustRead(p, *r.Message, "the end")
}
