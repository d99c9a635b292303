package xmpp

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// Limits bound what one stanza may cost to read.
type Limits struct {
	// MaxDepth is the deepest nesting kept; a stanza nesting deeper is
	// dropped. The stanza itself is depth 1.
	MaxDepth int
	// MaxBytes is the largest stanza kept; a larger one is dropped.
	MaxBytes int64
	// HardBytes is the most one stanza may take before the stream is
	// abandoned: past it not even skipping is safe for memory.
	HardBytes int64
	// MaxResultBytes is the largest answer our own server may send to a
	// request we made (a roster, an archive page, disco): those are not
	// what a peer relays, and a big roster must load whatever its size
	// within this bound. Past it the answer is dropped like any other
	// stanza; HardBytes more and the stream is abandoned. Zero means
	// MaxBytes. Which stanzas qualify is the Reader's Trusted hook.
	MaxResultBytes int64
}

// DefaultLimits comfortably hold what a server relays (Prosody refuses
// stanzas over 256 KiB from its clients) and bound the rest. Answers from
// our own server may reach 64 MiB: a 50,000-contact roster with long JIDs
// is about 10 MB.
var DefaultLimits = Limits{MaxDepth: 64, MaxBytes: 1 << 20, HardBytes: 16 << 20, MaxResultBytes: 64 << 20}

// ErrHardLimit ends a session whose server sent a stanza past Limits.HardBytes.
var ErrHardLimit = errors.New("stanza exceeds the hard size limit")

// budgetReader fails reads once more than limit bytes were read since the
// last reset, so that a single token cannot grow without bound inside the
// XML decoder's buffers.
type budgetReader struct {
	r     *bufio.Reader
	used  int64
	limit int64
}

// ReadByte lets the XML decoder read from our buffer instead of adding one
// of its own, so Buffered can tell whether more input is already here.
func (b *budgetReader) ReadByte() (byte, error) {
	if b.used >= b.limit {
		return 0, ErrHardLimit
	}
	c, err := b.r.ReadByte()
	if err == nil {
		b.used++
	}
	return c, err
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.used >= b.limit {
		return 0, ErrHardLimit
	}
	if rem := b.limit - b.used; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := b.r.Read(p)
	b.used += int64(n)
	return n, err
}

// Reader reads an XMPP stream: its header, then one top-level element at a
// time. It must be used from one goroutine.
type Reader struct {
	dec    *xml.Decoder
	budget *budgetReader
	limits Limits
	// Trusted, when set, tells from a top-level element's start tag that
	// it answers a request of ours from our own server: such an element
	// may be up to Limits.MaxResultBytes.
	Trusted func(start xml.StartElement) bool
}

// NewReader reads a stream from r within limits.
func NewReader(r io.Reader, limits Limits) *Reader {
	b := &budgetReader{r: bufio.NewReaderSize(r, 64<<10), limit: limits.HardBytes}
	d := xml.NewDecoder(b)
	d.Strict = true
	return &Reader{dec: d, budget: b, limits: limits}
}

// Buffered reports whether input has arrived that has not been read yet:
// reading the next element may then not wait for the network.
func (r *Reader) Buffered() bool { return r.budget.r.Buffered() > 0 }

// StreamStart reads up to and including the <stream:stream> header and
// returns it.
func (r *Reader) StreamStart() (xml.StartElement, error) {
	for {
		tok, err := r.dec.Token()
		if err != nil {
			return xml.StartElement{}, err
		}
		r.budget.used = 0
		switch t := tok.(type) {
		case xml.ProcInst, xml.CharData, xml.Comment:
			continue
		case xml.StartElement:
			if t.Name.Space != NSStream || t.Name.Local != "stream" {
				return xml.StartElement{}, fmt.Errorf("expected a stream header, got <%s>", t.Name.Local)
			}
			return t.Copy(), nil
		case xml.Directive:
			return xml.StartElement{}, &StreamError{Condition: "restricted-xml", Text: "DTD in stream"}
		default:
			return xml.StartElement{}, fmt.Errorf("unexpected %T before the stream header", tok)
		}
	}
}

// Next returns the next top-level element of the stream.
//
// It returns a *DroppedError (not fatal: call Next again) for a stanza that
// broke the limits, *StreamError for a stream error, ErrStreamClosed for the
// closing tag, and any other error when the stream is broken.
func (r *Reader) Next() (*Element, error) {
	for {
		tok, err := r.dec.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			start := r.dec.InputOffset()
			max, hard := r.limits.MaxBytes, r.limits.HardBytes
			if r.limits.MaxResultBytes > max && r.Trusted != nil && r.Trusted(t) {
				max, hard = r.limits.MaxResultBytes, r.limits.MaxResultBytes+r.limits.HardBytes
			}
			r.budget.limit = hard
			el, err := r.readElement(t, start, max)
			r.budget.used = 0
			r.budget.limit = r.limits.HardBytes
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
			r.budget.used = 0
		}
	}
}

// readElement builds the tree of the element that start opened. When the
// element breaks a limit it is skipped to its end and a *DroppedError is
// returned instead.
func (r *Reader) readElement(start xml.StartElement, offset, maxBytes int64) (*Element, error) {
	root := newElement(start)
	stack := []*Element{root}
	depth := 1
	var dropped string
	for depth > 0 {
		tok, err := r.dec.Token()
		if err != nil {
			if errors.Is(err, ErrHardLimit) {
				return nil, &StreamError{Condition: "policy-violation", Text: fmt.Sprintf("a <%s/> stanza exceeded %d bytes", start.Name.Local, r.budget.limit)}
			}
			return nil, err
		}
		if dropped == "" && r.dec.InputOffset()-offset > maxBytes {
			dropped = fmt.Sprintf("larger than %d bytes", maxBytes)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if dropped == "" && depth > r.limits.MaxDepth {
				dropped = fmt.Sprintf("nested deeper than %d levels", r.limits.MaxDepth)
			}
			if dropped != "" {
				continue
			}
			el := newElement(t)
			parent := stack[len(stack)-1]
			parent.Children = append(parent.Children, el)
			stack = append(stack, el)
		case xml.EndElement:
			depth--
			if dropped == "" {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			if dropped == "" {
				top := stack[len(stack)-1]
				top.Text += string(t)
			}
		case xml.Directive:
			return nil, &StreamError{Condition: "restricted-xml", Text: "DTD in stream"}
		}
	}
	if dropped != "" {
		return nil, &DroppedError{Name: start.Name.Local, Space: start.Name.Space, Reason: dropped}
	}
	return root, nil
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
