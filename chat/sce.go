package chat

import (
	"bytes"
	crand "crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/gab-chat/gab/xmpp"
)

// XEP-0420 stanza content encryption, as OMEMO 2 uses it: what is
// encrypted is an <envelope/> holding the message's content (its body)
// and the affixes that bind it to where it was sent — who from, who to,
// when — with random padding that hides the body's length. A server can
// move an encrypted element from one stanza into another; the envelope
// says where it belongs, and a message whose envelope names another
// sender or recipient is refused.

// NSSCE is XEP-0420's namespace.
const NSSCE = "urn:xmpp:sce:1"

// maxRpad is the most padding an envelope gets: random 0 to 200 bytes,
// as XEP-0420 suggests.
const maxRpad = 200

// sceEnvelope is what gab reads of an envelope: the body of its content
// (HasBody false when the content has none) and its affixes.
type sceEnvelope struct {
	Body     string
	HasBody  bool
	From, To string // bare JIDs; To "" when the envelope names none
	Time     time.Time
}

// sealEnvelope is the envelope of a message with body from `from` to
// `to` (bare JIDs), sent at now, with random padding from rand.
func sealEnvelope(rand io.Reader, body, from, to string, now time.Time) ([]byte, error) {
	n, err := crand.Int(rand, big.NewInt(maxRpad+1))
	if err != nil {
		return nil, err
	}
	pad := make([]byte, n.Int64())
	if _, err := io.ReadFull(rand, pad); err != nil {
		return nil, err
	}
	// Text of the padding's length: what the envelope carries is
	// characters, and base64's are all one byte.
	rpad := base64.RawStdEncoding.EncodeToString(pad)[:len(pad)]
	env := xmpp.E(NSSCE, "envelope").Add(
		xmpp.E(NSSCE, "content").Add(xmpp.E(xmpp.NSClient, "body").WithText(body)),
		xmpp.E(NSSCE, "rpad").WithText(rpad),
		xmpp.E(NSSCE, "time", "stamp", now.UTC().Format(time.RFC3339)),
		xmpp.E(NSSCE, "to", "jid", to),
		xmpp.E(NSSCE, "from", "jid", from),
	)
	var b bytes.Buffer
	env.AppendXML(&b, "")
	return b.Bytes(), nil
}

// envelopeLimits bound what reading an envelope may cost: it is at most
// an OMEMO payload, and nothing in it nests deep.
var envelopeLimits = xmpp.Limits{MaxDepth: 16, MaxBytes: MaxOMEMOPayload, HardBytes: MaxOMEMOPayload}

// errNoEnvelope: the plaintext is not one XEP-0420 envelope.
var errNoEnvelope = errors.New("its content is not a sealed envelope (XEP-0420)")

// parseEnvelope reads a decrypted envelope with the reader the stream
// uses (its limits, no DTD), refusing anything but one <envelope/> with
// one <content/>, at most one of each affix, and affixes that name no
// bare JID. Children of <content/> gab does not understand are left out:
// only the body is taken.
func parseEnvelope(plaintext []byte) (*sceEnvelope, error) {
	in := io.MultiReader(
		bytes.NewReader([]byte("<stream:stream xmlns:stream='"+xmpp.NSStream+"'>")),
		bytes.NewReader(plaintext),
		bytes.NewReader([]byte("</stream:stream>")))
	r := xmpp.NewReaderSize(in, envelopeLimits, 4<<10)
	if _, err := r.StreamStart(); err != nil {
		return nil, errNoEnvelope
	}
	el, err := r.Next()
	if err != nil || !el.Is(NSSCE, "envelope") {
		return nil, errNoEnvelope
	}
	if _, err := r.Next(); !errors.Is(err, xmpp.ErrStreamClosed) {
		return nil, errNoEnvelope // more than one element
	}
	count := map[string]int{}
	for _, c := range el.ChildrenIn(NSSCE) {
		count[c.Name.Local]++
	}
	if count["content"] != 1 {
		return nil, fmt.Errorf("its envelope has %d contents, not one", count["content"])
	}
	for _, a := range []string{"rpad", "time", "to", "from"} {
		if count[a] > 1 {
			return nil, fmt.Errorf("its envelope says <%s/> twice", a)
		}
	}
	var out sceEnvelope
	jidOf := func(name string) (string, error) {
		a := el.Child(NSSCE, name)
		if a == nil {
			return "", nil
		}
		j, err := BareJID(a.Get("jid"))
		if err != nil || j != a.Get("jid") {
			return "", fmt.Errorf("its envelope's <%s/> names %q, which is no bare JID", name, clipID(a.Get("jid")))
		}
		return j, nil
	}
	if out.From, err = jidOf("from"); err != nil {
		return nil, err
	}
	if out.To, err = jidOf("to"); err != nil {
		return nil, err
	}
	if t := el.Child(NSSCE, "time"); t != nil {
		if out.Time, err = time.Parse(time.RFC3339, t.Get("stamp")); err != nil {
			return nil, fmt.Errorf("its envelope's time %q is no time", clipID(t.Get("stamp")))
		}
	}
	content := el.Child(NSSCE, "content")
	bodies := 0
	for _, c := range content.ChildrenIn(xmpp.NSClient) {
		if c.Name.Local == "body" {
			bodies++
			out.Body, out.HasBody = c.Text, true
		}
	}
	if bodies > 1 {
		return nil, errors.New("its envelope holds two bodies")
	}
	return &out, nil
}

// openEnvelope reads the envelope of a message from `from` to `to` (bare
// JIDs) and checks that it says so: a missing <from/>, or one naming
// anybody else, or a <to/> naming anybody else, is refused with why.
// (XEP-0384 requires <from/>; <to/> is left out by some clients, and a
// message without it, addressed to our device by the sender's, is
// taken.)
func openEnvelope(plaintext []byte, from, to string) (*sceEnvelope, error) {
	env, err := parseEnvelope(plaintext)
	if err != nil {
		return nil, err
	}
	switch {
	case env.From == "":
		return nil, errors.New("its envelope does not say who sent it")
	case env.From != from:
		return nil, fmt.Errorf("its envelope says it is from %s, not %s (it was moved into this conversation)", env.From, from)
	case env.To != "" && env.To != to:
		return nil, fmt.Errorf("its envelope says it is for %s, not %s (it was moved into this conversation)", env.To, to)
	}
	return env, nil
}
