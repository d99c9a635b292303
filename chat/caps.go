package chat

import (
	"crypto/sha1"
	"encoding/base64"
	"sort"
	"strings"

	"github.com/gab-chat/gab/xmpp"
)

// CapsNode names gab in entity capabilities (XEP-0115).
const CapsNode = "https://github.com/gab-chat/gab"

// identity is a disco#info identity.
type identity struct{ category, typ, lang, name string }

var gabIdentity = identity{"client", "console", "", "gab"}

// capsVer is the XEP-0115 §5.1 verification string hash: identities
// "category/type/lang/name<" and features "feature<", each sorted, then
// SHA-1 and base64.
func capsVer(ids []identity, features []string) string {
	idStrs := make([]string, len(ids))
	for i, id := range ids {
		idStrs[i] = id.category + "/" + id.typ + "/" + id.lang + "/" + id.name + "<"
	}
	sort.Strings(idStrs)
	fs := append([]string(nil), features...)
	sort.Strings(fs)
	var b strings.Builder
	for _, s := range idStrs {
		b.WriteString(s)
	}
	for _, f := range fs {
		b.WriteString(f + "<")
	}
	sum := sha1.Sum([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// capsElement is the <c/> our presence carries.
func capsElement() *xmpp.Element {
	return xmpp.E(NSCaps, "c", "hash", "sha-1", "node", CapsNode, "ver", capsVer([]identity{gabIdentity}, Features))
}
