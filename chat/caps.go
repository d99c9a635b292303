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

// capsVerifiable reports whether a disco#info answer may be hashed and
// cached at all (XEP-0115 §5.4): no string may contain "<" — the hash
// input separates fields with it, so an identity name such as
// "gab<feature1<feature2<" with no features would otherwise hash like a
// client with those features — and no identity or feature may appear twice.
func capsVerifiable(ids []identity, features []string) bool {
	seenID := map[identity]bool{}
	for _, id := range ids {
		if strings.Contains(id.category+id.typ+id.lang+id.name, "<") || seenID[id] {
			return false
		}
		seenID[id] = true
	}
	seenF := map[string]bool{}
	for _, f := range features {
		if strings.Contains(f, "<") || seenF[f] {
			return false
		}
		seenF[f] = true
	}
	return true
}

// capsCacheable reports whether the answer to a disco#info query sent to
// the node#ver a presence advertised may be cached under it: the answer
// must be verifiable and hash to ver (answers with extended forms do not
// verify here and are not cached).
func capsCacheable(nodeVer string, ids []identity, features []string) bool {
	k := strings.LastIndexByte(nodeVer, '#')
	return k >= 0 && capsVerifiable(ids, features) && capsVer(ids, features) == nodeVer[k+1:]
}

// capsElement is the <c/> our presence carries.
func capsElement() *xmpp.Element {
	return xmpp.E(NSCaps, "c", "hash", "sha-1", "node", CapsNode, "ver", capsVer([]identity{gabIdentity}, Features))
}
