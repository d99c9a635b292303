package xmpp

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits bound what one stanza may cost to read.
type Limits struct {
	// MaxDepth is the deepest nesting kept; a stanza nesting deeper is
	// dropped. The stanza itself is depth 1.
	MaxDepth int
	// MaxBytes is the largest stanza kept, its start tag included; a larger
	// one is dropped.
	MaxBytes int64
	// HardBytes is the most one stanza may take before the stream is
	// abandoned: a dropped stanza is skipped byte by byte (without building
	// anything) up to this many bytes.
	HardBytes int64
	// MaxResultBytes is the largest answer our own server may send to a
	// request we made (a roster, an archive page, disco): those are not
	// what a peer relays, and a big roster must load whatever its size
	// within this bound. Past it the answer is dropped like any other
	// stanza; HardBytes more and the stream is abandoned. Zero means
	// MaxBytes. Which stanzas qualify is the Reader's Trusted hook.
	MaxResultBytes int64
	// MaxAttrs is the most attributes one element may carry, MaxTagBytes
	// the longest tag (name and attributes), MaxIDBytes the longest id
	// attribute. A stanza with an element past any of them is dropped. The
	// XML decoder builds every attribute of a tag before it returns it: a
	// tag is cut off at these limits while it is still being read. Zero
	// means the DefaultLimits value.
	MaxAttrs    int
	MaxTagBytes int
	MaxIDBytes  int
}

// DefaultLimits comfortably hold what a server relays (Prosody refuses
// stanzas over 256 KiB from its clients) and bound the rest. Answers from
// our own server may reach 64 MiB: a 50,000-contact roster with long JIDs
// is about 10 MB. No element gab reads has more than a dozen attributes;
// ids are UUIDs or shorter (1 KiB leaves room for bridges' long ones).
var DefaultLimits = Limits{MaxDepth: 64, MaxBytes: 1 << 20, HardBytes: 16 << 20, MaxResultBytes: 64 << 20,
	MaxAttrs: 32, MaxTagBytes: 32 << 10, MaxIDBytes: 1 << 10}

// ErrHardLimit ends a session whose server sent a stanza past Limits.HardBytes.
var ErrHardLimit = errors.New("stanza exceeds the hard size limit")

// errOver stops the XML decoder inside a stanza that broke a limit; the
// rest of the stanza is then skipped without it.
var errOver = errors.New("stanza over a limit")

// budgetReader hands the XML decoder the stream byte by byte, follows
// those bytes with a lexer, and fails a read once the stanza being read
// broke a limit: more than limit bytes since the last reset, or a tag, an
// attribute count or a nesting depth past Limits. It fails before the
// decoder has built the token, so no single token can grow without bound
// inside the decoder.
type budgetReader struct {
	r      *bufio.Reader
	used   int64
	limit  int64
	lex    lexer
	limits Limits
	// skipping: the stanza is being skipped; only the byte budget holds,
	// and past it the stream is abandoned.
	skipping bool
	over     string // why errOver was returned
	// prefix is served to a fresh decoder before the stream goes on: the
	// stream header's namespace declarations (see Reader.reset).
	prefix []byte
}

// ReadByte lets the XML decoder read from our buffer instead of adding one
// of its own, so Buffered can tell whether more input is already here and
// the lexer sees exactly the bytes the decoder consumed.
func (b *budgetReader) ReadByte() (byte, error) {
	if len(b.prefix) > 0 {
		c := b.prefix[0]
		b.prefix = b.prefix[1:]
		return c, nil
	}
	if b.used >= b.limit {
		if b.skipping {
			return 0, ErrHardLimit
		}
		b.over = fmt.Sprintf("larger than %d bytes", b.limit)
		return 0, errOver
	}
	c, err := b.r.ReadByte()
	if err != nil {
		return c, err
	}
	b.used++
	ev := b.lex.step(c)
	if b.skipping {
		return c, nil
	}
	l := &b.lex
	inTag := l.state == lOpen || l.state == lStart || l.state == lEnd
	switch {
	case inTag && l.tag > b.limits.MaxTagBytes:
		b.over = fmt.Sprintf("a tag longer than %d bytes", b.limits.MaxTagBytes)
	case l.state == lStart && l.attrs > b.limits.MaxAttrs:
		b.over = fmt.Sprintf("more than %d attributes on one element", b.limits.MaxAttrs)
	case (ev == lexOpened && l.depth-1 > b.limits.MaxDepth) || (ev == lexEmpty && l.depth > b.limits.MaxDepth):
		// depth counts the stream header; the stanza itself is depth 1.
		b.over = fmt.Sprintf("nested deeper than %d levels", b.limits.MaxDepth)
	default:
		return c, nil
	}
	return 0, errOver
}

func (b *budgetReader) Read(p []byte) (int, error) {
	for i := range p {
		c, err := b.ReadByte()
		if err != nil {
			return i, err
		}
		p[i] = c
	}
	return len(p), nil
}

// Reader reads an XMPP stream: its header, then one top-level element at a
// time. It must be used from one goroutine.
type Reader struct {
	dec    *xml.Decoder
	budget *budgetReader
	limits Limits
	// header re-declares the stream header's namespaces for a fresh
	// decoder; space maps its prefixes ("" the default) to namespaces.
	header []byte
	space  map[string]string
	// Trusted, when set, tells from a top-level element's start tag that
	// it answers a request of ours from our own server: such an element
	// may be up to Limits.MaxResultBytes.
	Trusted func(start xml.StartElement) bool
}

// NewReader reads a stream from r within limits.
func NewReader(r io.Reader, limits Limits) *Reader {
	return NewReaderSize(r, limits, 64<<10)
}

// NewReaderSize is NewReader reading ahead at most size bytes: for a
// short document (a decrypted envelope, say) the stream's 64 KiB of read
// buffer would cost more than reading it.
func NewReaderSize(r io.Reader, limits Limits, size int) *Reader {
	if limits.MaxAttrs <= 0 {
		limits.MaxAttrs = DefaultLimits.MaxAttrs
	}
	if limits.MaxTagBytes <= 0 {
		limits.MaxTagBytes = DefaultLimits.MaxTagBytes
	}
	if limits.MaxIDBytes <= 0 {
		limits.MaxIDBytes = DefaultLimits.MaxIDBytes
	}
	b := &budgetReader{r: bufio.NewReaderSize(r, size), limit: limits.HardBytes, limits: limits}
	return &Reader{dec: newDecoder(b), budget: b, limits: limits}
}

func newDecoder(b *budgetReader) *xml.Decoder {
	d := xml.NewDecoder(b)
	d.Strict = true
	return d
}

// Buffered reports whether input has arrived that has not been read yet:
// reading the next element may then not wait for the network.
func (r *Reader) Buffered() bool { return r.budget.r.Buffered() > 0 }

// StreamStart reads up to and including the <stream:stream> header and
// returns it.
func (r *Reader) StreamStart() (xml.StartElement, error) {
	for {
		r.budget.used, r.budget.limit = 0, r.limits.MaxBytes
		tok, err := r.dec.Token()
		if err != nil {
			if errors.Is(err, errOver) {
				return xml.StartElement{}, &StreamError{Condition: "policy-violation", Text: "stream header " + r.budget.over}
			}
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.ProcInst, xml.CharData, xml.Comment:
			continue
		case xml.StartElement:
			if t.Name.Space != NSStream || t.Name.Local != "stream" {
				return xml.StartElement{}, fmt.Errorf("expected a stream header, got <%s>", t.Name.Local)
			}
			r.rememberHeader(t)
			r.budget.used, r.budget.limit = 0, r.limits.HardBytes
			return t.Copy(), nil
		case xml.Directive:
			return xml.StartElement{}, &StreamError{Condition: "restricted-xml", Text: "DTD in stream"}
		default:
			return xml.StartElement{}, fmt.Errorf("unexpected %T before the stream header", tok)
		}
	}
}

// rememberHeader keeps what a fresh decoder needs to read on where the
// stream is: the header's namespace declarations, under the prefix the
// header itself used.
func (r *Reader) rememberHeader(t xml.StartElement) {
	r.space = map[string]string{}
	var decls strings.Builder
	name := "stream"
	for _, a := range t.Attr {
		switch {
		case a.Name.Space == "xmlns":
			r.space[a.Name.Local] = a.Value
			decls.WriteString(" xmlns:" + a.Name.Local + "='" + xmlAttrEscape(a.Value) + "'")
			if a.Value == NSStream {
				name = a.Name.Local + ":stream"
			}
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			r.space[""] = a.Value
			decls.WriteString(" xmlns='" + xmlAttrEscape(a.Value) + "'")
		}
	}
	r.header = []byte("<" + name + decls.String() + ">")
}

// Next returns the next top-level element of the stream.
//
// It returns a *DroppedError (not fatal: call Next again) for a stanza that
// broke the limits, *StreamError for a stream error, ErrStreamClosed for the
// closing tag, and any other error when the stream is broken.
func (r *Reader) Next() (*Element, error) {
	for {
		// Every byte of a stanza counts, from its "<" on. Between stanzas
		// the same budget bounds whitespace and comments.
		r.budget.used, r.budget.limit = 0, r.limits.MaxBytes
		tok, err := r.dec.Token()
		if err != nil {
			if errors.Is(err, errOver) {
				name := r.budget.lex.topName(r.space)
				err := r.drop(name, r.limits.HardBytes)
				if de := (*DroppedError)(nil); name.Local == "" && errors.As(err, &de) {
					continue // text or a comment between stanzas: nothing was lost
				}
				return nil, err
			}
			return nil, closedOr(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			hard := r.limits.HardBytes
			if r.limits.MaxResultBytes > r.limits.MaxBytes && r.Trusted != nil && r.Trusted(t) {
				r.budget.limit, hard = r.limits.MaxResultBytes, r.limits.MaxResultBytes+r.limits.HardBytes
			}
			el, err := r.readElement(t, hard)
			if err != nil {
				return nil, err
			}
			if el.Is(NSStream, "error") {
				return nil, parseStreamError(el)
			}
			return el, nil
		case xml.EndElement:
			return nil, ErrStreamClosed
		case xml.Directive:
			return nil, &StreamError{Condition: "restricted-xml", Text: "DTD in stream"}
		default:
			// Whitespace keep-alives, comments and processing instructions
			// between stanzas carry nothing.
		}
	}
}

// drop skips the rest of the stanza being read, byte by byte and building
// nothing, up to hard bytes from its start; then reading goes on with a
// fresh decoder, so that nothing the dropped stanza made the old one hold
// (its buffers, its stack of open elements) stays for the session.
func (r *Reader) drop(name xml.Name, hard int64) error {
	b := r.budget
	reason := b.over
	b.skipping, b.limit = true, hard
	defer func() { b.skipping = false }()
	l := &b.lex
	for !(l.depth <= 1 && l.state == lText) {
		c, err := b.ReadByte()
		if err != nil {
			if errors.Is(err, ErrHardLimit) {
				return &StreamError{Condition: "policy-violation", Text: fmt.Sprintf("a <%s/> stanza exceeded %d bytes", name.Local, hard)}
			}
			return err
		}
		_ = c
	}
	b.prefix = append([]byte(nil), r.header...)
	r.dec = newDecoder(b)
	if _, err := r.dec.Token(); err != nil { // the re-declared header
		return err
	}
	return &DroppedError{Name: name.Local, Space: name.Space, Reason: reason}
}

// readElement builds the tree of the element that start opened. When the
// element breaks a limit it is skipped to its end and a *DroppedError is
// returned instead.
func (r *Reader) readElement(start xml.StartElement, hard int64) (*Element, error) {
	if len(attr(start, "id")) > r.limits.MaxIDBytes {
		r.budget.over = fmt.Sprintf("an id longer than %d bytes", r.limits.MaxIDBytes)
		return nil, r.drop(start.Name, hard)
	}
	root := newElement(start)
	stack := []*Element{root}
	for len(stack) > 0 {
		tok, err := r.dec.Token()
		if err != nil {
			if errors.Is(err, errOver) {
				return nil, r.drop(start.Name, hard)
			}
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(attr(t, "id")) > r.limits.MaxIDBytes {
				r.budget.over = fmt.Sprintf("an id longer than %d bytes", r.limits.MaxIDBytes)
				return nil, r.drop(start.Name, hard)
			}
			el := newElement(t)
			parent := stack[len(stack)-1]
			parent.Children = append(parent.Children, el)
			stack = append(stack, el)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			top := stack[len(stack)-1]
			top.Text += string(t)
		case xml.Directive:
			return nil, &StreamError{Condition: "restricted-xml", Text: "DTD in stream"}
		}
	}
	return root, nil
}

func attr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

func newElement(t xml.StartElement) *Element {
	el := &Element{Name: t.Name}
	if len(t.Attr) > 0 {
		el.Attr = make([]xml.Attr, 0, len(t.Attr))
		for _, a := range t.Attr {
			if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
				continue
			}
			el.Attr = append(el.Attr, a)
		}
	}
	return el
}

func parseStreamError(el *Element) *StreamError {
	e := &StreamError{Condition: "undefined-condition"}
	found := false
	for _, c := range el.ChildrenIn(NSStreams) {
		if c.Name.Local == "text" {
			e.Text = c.Text
		} else if !found {
			e.Condition, e.Data, found = c.Name.Local, c.Text, true
		}
	}
	return e
}

// closedOr turns the decoder's view of a connection that ended mid-stream
// ("XML syntax error on line 1: unexpected EOF") into what happened: the
// connection was closed without the stream being closed first.
func closedOr(err error) error {
	var se *xml.SyntaxError
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &se) && se.Msg == "unexpected EOF" {
		return ErrConnectionClosed
	}
	return err
}
