package chat

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestParseSlot(t *testing.T) {
	const iq = `<iq type='result' id='s' from='upload.localhost'><slot xmlns='urn:xmpp:http:upload:0'>%s</slot></iq>`
	for _, tc := range []struct {
		name, slot string
		headers    http.Header
		err        string
	}{
		{"only the three headers, without line breaks",
			`<put url='https://up.example/a'><header name='Authorization'>Bearer x&#13;&#10;Evil: 1</header><header name='cookie'>c=1</header><header name='Expires'>never</header><header name='Host'>evil.example</header><header name='Content-Type'>text/html</header></put><get url='https://up.example/a'/>`,
			http.Header{"Authorization": {"Bearer xEvil: 1"}, "Cookie": {"c=1"}, "Expires": {"never"}}, ""},
		{"plain http put", `<put url='http://up.example/a'/><get url='https://up.example/a'/>`, nil, "not an https URL"},
		{"plain http get", `<put url='https://up.example/a'/><get url='http://up.example/a'/>`, nil, "not an https URL"},
		{"another scheme", `<put url='file:///etc/passwd'/><get url='https://up.example/a'/>`, nil, "not an https URL"},
		{"no get", `<put url='https://up.example/a'/>`, nil, "lacks"},
		// The get URL becomes the body of our message: a direction override
		// would make others read "a‮gpj.exe" as "aexe.jpg", and a space
		// would cut the link short in their clients.
		{"a direction override in the get URL", `<put url='https://up.example/a'/><get url='https://up.example/a&#x202e;gpj.exe'/>`, nil, "characters a URL may not hold"},
		{"a space in the get URL", `<put url='https://up.example/a'/><get url='https://up.example/a b'/>`, nil, "characters a URL may not hold"},
		{"a tab in the put URL", `<put url='https://up.example/a&#9;b'/><get url='https://up.example/a'/>`, nil, "characters a URL may not hold"},
		{"letters beyond ASCII in the get URL", `<put url='https://up.example/a'/><get url='https://up.example/é'/>`, nil, "characters a URL may not hold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseSlot(parse(t, strings.Replace(iq, "%s", tc.slot, 1)))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(s.headers, tc.headers) || s.put != "https://up.example/a" {
				t.Fatalf("slot %+v, err %v", s, err)
			}
		})
	}
	if _, err := parseSlot(parse(t, `<iq type='result' id='s'/>`)); err == nil {
		t.Fatal("an answer without a slot was taken")
	}
}

func TestUploadInfo(t *testing.T) {
	const q = `<iq type='result' id='i'><query xmlns='http://jabber.org/protocol/disco#info'>%s</query></iq>`
	for _, tc := range []struct {
		name, info string
		max        int64
		ok         bool
	}{
		{"with a limit", `<feature var='urn:xmpp:http:upload:0'/><x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:http:upload:0</value></field><field var='max-file-size'><value>5242880</value></field></x>`, 5242880, true},
		{"no form", `<feature var='urn:xmpp:http:upload:0'/>`, 0, true},
		{"another form's limit is not ours", `<feature var='urn:xmpp:http:upload:0'/><x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>urn:other</value></field><field var='max-file-size'><value>10</value></field></x>`, 0, true},
		{"a limit that is no number", `<feature var='urn:xmpp:http:upload:0'/><x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:http:upload:0</value></field><field var='max-file-size'><value>-5</value></field></x>`, 0, true},
		{"not an upload service", `<feature var='http://jabber.org/protocol/muc'/>`, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			el := parse(t, strings.Replace(q, "%s", tc.info, 1))
			max, ok := uploadInfo(el.Child(NSDiscoInfo, "query"))
			if max != tc.max || ok != tc.ok {
				t.Fatalf("max %d ok %v, want %d %v", max, ok, tc.max, tc.ok)
			}
		})
	}
}

func TestByteSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 KB", 2_150_000: "2.1 MB", 5 << 20: "5.2 MB", 3e12: "3.0 TB", 5e15: "5000.0 TB"} {
		if got := ByteSize(n); got != want {
			t.Errorf("ByteSize(%d) = %q, want %q", n, got, want)
		}
	}
}
