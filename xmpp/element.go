package xmpp

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
)

// Namespaces gab's protocol layer uses.
const (
	NSClient  = "jabber:client"
	NSStream  = "http://etherx.jabber.org/streams"
	NSTLS     = "urn:ietf:params:xml:ns:xmpp-tls"
	NSSASL    = "urn:ietf:params:xml:ns:xmpp-sasl"
	NSBind    = "urn:ietf:params:xml:ns:xmpp-bind"
	NSSession = "urn:ietf:params:xml:ns:xmpp-session"
	NSStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
	NSStreams = "urn:ietf:params:xml:ns:xmpp-streams"
	NSPing    = "urn:xmpp:ping"
	NSXML     = "http://www.w3.org/XML/1998/namespace"
)

// Element is one XML element as a small tree: its name, attributes, children
// and the character data directly inside it. Stanzas are read into Elements
// and built as Elements to be sent.
type Element struct {
	Name     xml.Name
	Attr     []xml.Attr
	Children []*Element
	Text     string
}

// E builds an element in namespace space with attributes given as name,
// value pairs ("xml:lang" is understood).
func E(space, local string, attrs ...string) *Element {
	el := &Element{Name: xml.Name{Space: space, Local: local}}
	for i := 0; i+1 < len(attrs); i += 2 {
		el.SetAttr(attrs[i], attrs[i+1])
	}
	return el
}

// Add appends children and returns el, for building trees in one expression.
func (el *Element) Add(children ...*Element) *Element {
	for _, c := range children {
		if c != nil {
			el.Children = append(el.Children, c)
		}
	}
	return el
}

// WithText sets the character data and returns el.
func (el *Element) WithText(s string) *Element {
	el.Text = s
	return el
}

// Is reports whether el has the given namespace and local name.
func (el *Element) Is(space, local string) bool {
	return el != nil && el.Name.Local == local && el.Name.Space == space
}

// Get returns the value of the attribute with no namespace called local, or
// "" when there is none. "xml:lang" is looked up in the XML namespace.
func (el *Element) Get(local string) string {
	if el == nil {
		return ""
	}
	space := ""
	if strings.HasPrefix(local, "xml:") {
		space, local = NSXML, local[4:]
	}
	for _, a := range el.Attr {
		if a.Name.Local == local && a.Name.Space == space {
			return a.Value
		}
	}
	return ""
}

// SetAttr sets or replaces an attribute; "xml:lang" goes in the XML namespace.
func (el *Element) SetAttr(local, value string) {
	space := ""
	if strings.HasPrefix(local, "xml:") {
		space, local = NSXML, local[4:]
	}
	for i, a := range el.Attr {
		if a.Name.Local == local && a.Name.Space == space {
			el.Attr[i].Value = value
			return
		}
	}
	el.Attr = append(el.Attr, xml.Attr{Name: xml.Name{Space: space, Local: local}, Value: value})
}

// Child returns the first child with that namespace and name, or nil.
func (el *Element) Child(space, local string) *Element {
	if el == nil {
		return nil
	}
	for _, c := range el.Children {
		if c.Is(space, local) {
			return c
		}
	}
	return nil
}

// ChildrenIn returns the children in namespace space whatever their name.
func (el *Element) ChildrenIn(space string) []*Element {
	if el == nil {
		return nil
	}
	var out []*Element
	for _, c := range el.Children {
		if c.Name.Space == space {
			out = append(out, c)
		}
	}
	return out
}

// ChildText returns the text of the first matching child, or "".
func (el *Element) ChildText(space, local string) string {
	if c := el.Child(space, local); c != nil {
		return c.Text
	}
	return ""
}

// String serialises el; it is meant for logs and tests.
func (el *Element) String() string {
	var b bytes.Buffer
	el.encode(&b, NSClient)
	return b.String()
}

// AppendXML serialises el onto b. parentSpace is the default namespace in
// scope where el is written: for a stanza that is jabber:client, so stanzas
// carry no xmlns of their own.
func (el *Element) AppendXML(b *bytes.Buffer, parentSpace string) {
	el.encode(b, parentSpace)
}

func (el *Element) encode(b *bytes.Buffer, parentSpace string) {
	b.WriteByte('<')
	b.WriteString(el.Name.Local)
	if el.Name.Space != parentSpace {
		b.WriteString(` xmlns="`)
		escapeAttr(b, el.Name.Space)
		b.WriteByte('"')
	}
	prefixes := 0
	for _, a := range el.Attr {
		b.WriteByte(' ')
		switch a.Name.Space {
		case "":
		case NSXML:
			b.WriteString("xml:")
		case "xmlns":
			// Declarations are written from element and attribute names.
			continue
		default:
			prefixes++
			p := "ns" + strconv.Itoa(prefixes)
			b.WriteString("xmlns:" + p + `="`)
			escapeAttr(b, a.Name.Space)
			b.WriteString(`" ` + p + ":")
		}
		b.WriteString(a.Name.Local)
		b.WriteString(`="`)
		escapeAttr(b, a.Value)
		b.WriteByte('"')
	}
	if len(el.Children) == 0 && el.Text == "" {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	escapeText(b, el.Text)
	for _, c := range el.Children {
		c.encode(b, el.Name.Space)
	}
	b.WriteString("</")
	b.WriteString(el.Name.Local)
	b.WriteByte('>')
}

// escapeText writes s as XML character data. Characters XML 1.0 forbids
// (most C0 controls) become U+FFFD so that nothing we send can break the
// stream.
func escapeText(b *bytes.Buffer, s string) { escape(b, s, false) }

// escapeAttr writes s as a quoted attribute value, where quotes and
// whitespace other than the space must be escaped too.
func escapeAttr(b *bytes.Buffer, s string) { escape(b, s, true) }

func escape(b *bytes.Buffer, s string, attr bool) {
	for _, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '\r':
			b.WriteString("&#xD;")
		case attr && r == '"':
			b.WriteString("&quot;")
		case attr && r == '\'':
			b.WriteString("&apos;")
		case attr && r == '\t':
			b.WriteString("&#x9;")
		case attr && r == '\n':
			b.WriteString("&#xA;")
		case !isXMLChar(r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
}

// isXMLChar reports whether r may appear in an XML 1.0 document.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF)
}
