package xmpp

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// droppedThenNext reads body followed by a well-formed stanza and checks
// that the first is dropped for the reason given and the second read whole.
func droppedThenNext(t *testing.T, limits Limits, body, reason string) *DroppedError {
	t.Helper()
	els, errs := readAll(t, body+`<message id='next'><body>ok</body></message></stream:stream>`, limits)
	var de *DroppedError
	if len(errs) != 2 || !errors.As(errs[0], &de) || !strings.Contains(de.Reason, reason) || !errors.Is(errs[1], ErrStreamClosed) {
		t.Fatalf("errors %v, want one drop (%s) then the end of the stream", errs, reason)
	}
	if len(els) != 1 || els[0].Get("id") != "next" || els[0].ChildText(NSClient, "body") != "ok" {
		t.Fatalf("elements after the drop: %v", els)
	}
	return de
}

// The start tag is part of the stanza: a tag past MaxBytes is dropped like
// a body past it.
func TestReaderCountsTheStartTag(t *testing.T) {
	lim := Limits{MaxDepth: 16, MaxBytes: 1000, HardBytes: 100000}
	de := droppedThenNext(t, lim, `<message to='a@b' x='`+strings.Repeat("a", 1500)+`'><body>hi</body></message>`, "larger than 1000 bytes")
	if de.Name != "message" || de.Space != NSClient {
		t.Errorf("dropped %q in %q, want message in jabber:client (stream management counts it)", de.Name, de.Space)
	}
	// Self-closing too, and at the limit exactly a stanza is kept.
	droppedThenNext(t, lim, `<presence x='`+strings.Repeat("a", 1500)+`'/>`, "larger than")
	ok := `<message id='k' x='` + strings.Repeat("a", 1000-len(`<message id='k' x=''/>`)) + `'/>`
	if els, errs := readAll(t, ok+`</stream:stream>`, lim); len(els) != 1 || len(errs) != 1 {
		t.Fatalf("a %d-byte stanza: %v %v", len(ok), els, errs)
	}
}

func TestReaderBoundsAttributesAndIDs(t *testing.T) {
	many := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, " a%d=''", i)
		}
		return b.String()
	}
	long := strings.Repeat("i", 2000)
	cases := []struct{ name, body, reason string }{
		{"attributes on the stanza", `<message` + many(33) + `/>`, "more than 32 attributes"},
		{"attributes on a child", `<message><x xmlns='urn:x'` + many(100) + `/></message>`, "more than 32 attributes"},
		{"long id on the stanza", `<iq type='get' id='` + long + `'><ping xmlns='urn:xmpp:ping'/></iq>`, "an id longer than 1024 bytes"},
		{"long id on a self-closing stanza", `<iq type='get' id='` + long + `'/>`, "an id longer than 1024 bytes"},
		{"long id on a child", `<message><origin-id xmlns='urn:xmpp:sid:0' id='` + long + `'/><body>x</body></message>`, "an id longer"},
		{"long tag", `<message><x xmlns='urn:x' v='` + strings.Repeat("v", 40<<10) + `'/></message>`, "a tag longer than 32768 bytes"},
		{"long element name", `<message><` + strings.Repeat("n", 40<<10) + `/></message>`, "a tag longer than"},
		{"deep", `<message>` + strings.Repeat("<x>", 100) + strings.Repeat("</x>", 100) + `</message>`, "nested deeper than 64"},
		{"deep, self-closing at the bottom", `<message>` + strings.Repeat("<x>", 63) + `<y/>` + strings.Repeat("</x>", 63) + `</message>`, "nested deeper than 64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { droppedThenNext(t, DefaultLimits, tc.body, tc.reason) })
	}
	// 32 attributes, a 1024-byte id and 64 levels are kept.
	kept := `<message id='` + strings.Repeat("i", 1024) + `'` + many(31) + `>` + strings.Repeat("<x>", 63) + strings.Repeat("</x>", 63) + `</message>`
	if els, errs := readAll(t, kept+`</stream:stream>`, DefaultLimits); len(els) != 1 || len(els[0].Attr) != 32 || len(errs) != 1 {
		t.Fatalf("at the limits: %d elements, errors %v", len(els), errs)
	}
}

// The bytes of a dropped stanza are skipped without the decoder: what the
// skipping understands must end where the stanza ends, whatever the quotes,
// comments, CDATA sections and processing instructions inside.
func TestReaderSkipsTrickyStanzasToTheirEnd(t *testing.T) {
	tricky := `<message a='>' b="/>" c='"' d="'"><!-- </message> ' " --><?pi </message> ?>` +
		`<body><![CDATA[</message> <message> ' " ]] > ]]></body><x xmlns='urn:x' e='&lt;/message&gt;'/>` +
		`<deep>` + strings.Repeat("<y a='>'>", 70) + strings.Repeat("</y>", 70) + `</deep></message>`
	droppedThenNext(t, DefaultLimits, tricky, "nested deeper")
	// The same stanza under the limits is read as the decoder sees it.
	ok := strings.Replace(tricky, strings.Repeat("<y a='>'>", 70)+strings.Repeat("</y>", 70), "<y a='>'/>", 1)
	els, errs := readAll(t, ok+`<message id='next'/></stream:stream>`, DefaultLimits)
	if len(els) != 2 || els[0].Get("a") != ">" || els[0].Get("b") != "/>" || els[0].ChildText(NSClient, "body") != `</message> <message> ' " ]] > ` ||
		els[1].Get("id") != "next" || len(errs) != 1 {
		t.Fatalf("elements %v, errors %v", els, errs)
	}
}

// repeatReader yields s n times, so a test can send tens of megabytes
// without holding them.
type repeatReader struct {
	s   string
	n   int
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	k := 0
	for k < len(p) && r.n > 0 {
		c := copy(p[k:], r.s[r.off:])
		k += c
		r.off += c
		if r.off == len(r.s) {
			r.off = 0
			r.n--
		}
	}
	if k == 0 {
		return 0, io.EOF
	}
	return k, nil
}

// What a hostile server can make the reader hold: a 14 MB start tag of
// 1.2 million attributes, 2.2 million levels of nesting, a 15 MB id, and a
// 15 MB body, each under the 16 MiB hard limit. Each is dropped and reading
// goes on; the reader allocates little while skipping them and keeps
// nothing afterwards.
func TestReaderMemoryAfterHostileStanzas(t *testing.T) {
	const attrs, depth = 1_200_000, 2_200_000
	stream := io.MultiReader(
		strings.NewReader(header+`<message id='before'/>`),
		strings.NewReader(`<message`), &repeatReader{s: ` a=''`, n: attrs}, strings.NewReader(`/>`),
		strings.NewReader(`<message>`), &repeatReader{s: `<x>`, n: depth}, &repeatReader{s: `</x>`, n: depth}, strings.NewReader(`</message>`),
		strings.NewReader(`<iq type='get' id='`), &repeatReader{s: `0123456789`, n: 1_500_000}, strings.NewReader(`'><ping xmlns='urn:xmpp:ping'/></iq>`),
		strings.NewReader(`<message><body>`), &repeatReader{s: `0123456789`, n: 1_500_000}, strings.NewReader(`</body></message>`),
		strings.NewReader(`<message id='after'><body>still here</body></message></stream:stream>`),
	)
	r := NewReader(stream, DefaultLimits)
	if _, err := r.StreamStart(); err != nil {
		t.Fatal(err)
	}
	if el, err := r.Next(); err != nil || el.Get("id") != "before" {
		t.Fatalf("%v %v", el, err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var reasons []string
	for range 4 {
		_, err := r.Next()
		var de *DroppedError
		if !errors.As(err, &de) {
			t.Fatalf("got %v, want a dropped stanza", err)
		}
		reasons = append(reasons, de.Reason)
	}
	el, err := r.Next()
	if err != nil || el.Get("id") != "after" {
		t.Fatalf("after the hostile stanzas: %v %v (dropped: %v)", el, err, reasons)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	held := int64(after.HeapInuse) - int64(before.HeapInuse)
	t.Logf("dropped %q; allocated %.2f MB while reading about 62 MB of them; heap in use after GC %+.2f MB (%.2f MB before)",
		reasons, float64(allocated)/1e6, float64(held)/1e6, float64(before.HeapInuse)/1e6)
	if allocated > 8<<20 {
		t.Errorf("allocated %d bytes reading stanzas that were dropped", allocated)
	}
	if held > 2<<20 {
		t.Errorf("%d more bytes in use after the hostile stanzas than before", held)
	}
	runtime.KeepAlive(r)
}

// Whitespace or a comment between stanzas, however long, is read in
// bounded pieces and costs nothing: no stanza is dropped (stream
// management must count none), and the stanzas around it are read.
func TestReaderBoundsTextBetweenStanzas(t *testing.T) {
	lim := Limits{MaxDepth: 16, MaxBytes: 1000, HardBytes: 100000}
	body := `<message id='1'/>` + strings.Repeat(" ", 5000) + `<message id='2'/><!--` + strings.Repeat("c", 5000) + `--><message id='3'/></stream:stream>`
	els, errs := readAll(t, body, lim)
	if len(els) != 3 || els[2].Get("id") != "3" || len(errs) != 1 || !errors.Is(errs[0], ErrStreamClosed) {
		t.Fatalf("elements %v, errors %v", els, errs)
	}
}
