package xmpp

import "strings"

// ValidLang reports whether tag is a well-formed language tag as xml:lang
// needs it (BCP 47, RFC 5646 §2.1): a primary language subtag of 2–8
// letters (or "x"/"i" for private use and grandfathered tags) followed by
// subtags of 1–8 letters and digits, separated by hyphens. Servers may
// reject a stream whose xml:lang is not one (ejabberd does), so nothing
// else is ever sent.
func ValidLang(tag string) bool {
	if tag == "" {
		return false
	}
	for i, sub := range strings.Split(tag, "-") {
		if len(sub) < 1 || len(sub) > 8 {
			return false
		}
		for _, r := range sub {
			alpha := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
			digit := r >= '0' && r <= '9'
			if !alpha && !(digit && i > 0) {
				return false
			}
		}
		if i == 0 && len(sub) == 1 && sub != "x" && sub != "X" && sub != "i" && sub != "I" {
			return false
		}
	}
	return true
}

// LangFromLocale turns a POSIX locale name as found in $LANG or $LC_ALL
// (language[_territory][.codeset][@modifier]) into a language tag:
// "de_AT.UTF-8" gives "de-AT", "pt_BR" gives "pt-BR". The C and POSIX
// locales (C.UTF-8 included) name no language and give "", as does
// anything that does not make a valid tag.
func LangFromLocale(locale string) string {
	l := locale
	if i := strings.IndexAny(l, ".@"); i >= 0 {
		l = l[:i]
	}
	switch l {
	case "", "C", "POSIX":
		return ""
	}
	lang, region, _ := strings.Cut(l, "_")
	tag := strings.ToLower(lang)
	if region != "" {
		tag += "-" + strings.ToUpper(region)
	}
	if !ValidLang(tag) || len(lang) < 2 || len(lang) > 3 {
		return ""
	}
	return tag
}

// streamLang is the xml:lang our stream header carries: lang when it is a
// valid tag, else "en" (RFC 6120 §4.7.4 asks clients to send one).
func streamLang(lang string) string {
	if ValidLang(lang) {
		return lang
	}
	return "en"
}
