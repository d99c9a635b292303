package xmpp

import "testing"

func TestLangFromLocale(t *testing.T) {
	for locale, want := range map[string]string{
		"C":                  "",
		"C.UTF-8":            "",
		"C.utf8":             "",
		"POSIX":              "",
		"POSIX.UTF-8":        "",
		"":                   "",
		"en_US.UTF-8":        "en-US",
		"de_AT.ISO-8859-15":  "de-AT",
		"de":                 "de",
		"fr_FR@euro":         "fr-FR",
		"sr_RS.UTF-8@latin":  "sr-RS",
		"pt_BR":              "pt-BR",
		"ast_ES.UTF-8":       "ast-ES",
		"en US":              "",
		"1_2":                "",
		"toolonglanguage_XX": "",
	} {
		if got := LangFromLocale(locale); got != want {
			t.Errorf("LangFromLocale(%q) = %q, want %q", locale, got, want)
		}
		if got := LangFromLocale(locale); got != "" && !ValidLang(got) {
			t.Errorf("LangFromLocale(%q) = %q, not a valid tag", locale, got)
		}
	}
}

func TestValidLang(t *testing.T) {
	for tag, want := range map[string]bool{
		"en": true, "en-GB": true, "zh-Hant-TW": true, "de-1996": true, "x-klingon": true, "ast": true,
		"": false, "C": false, "C.UTF-8": false, "en_US": false, "en-": false, "-en": false,
		"1en": false, "en--GB": false, "en-toolongsubtag": false, "e'n": false, "en GB": false,
	} {
		if got := ValidLang(tag); got != want {
			t.Errorf("ValidLang(%q) = %v, want %v", tag, got, want)
		}
	}
}

// The stream header carries a valid tag whatever the configuration says.
func TestStreamLang(t *testing.T) {
	for in, want := range map[string]string{"": "en", "C": "en", "C.UTF-8": "en", "de-AT": "de-AT", "x'y": "en"} {
		if got := streamLang(in); got != want {
			t.Errorf("streamLang(%q) = %q, want %q", in, got, want)
		}
	}
}
