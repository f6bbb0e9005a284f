package normalize

import (
	"fmt"
	"sort"
	"strings"
)

// Locale is how a source writes numbers and booleans: its decimal
// separator (the grouping separator is then any of the others) and the
// words for true and false in its language, read besides English's.
type Locale struct {
	// Name is the locale as configured ("fr", "de-CH").
	Name string
	// Decimal is '.' or ','.
	Decimal byte
	// True and False are lower-case words of the language.
	True, False []string
}

// language is what a language writes, in its main countries.
type language struct {
	decimal     byte
	true, false []string
}

var languages = map[string]language{
	"en": {decimal: '.'},
	"fr": {',', []string{"oui", "vrai"}, []string{"non", "faux"}},
	"de": {',', []string{"ja", "wahr"}, []string{"nein", "falsch"}},
	"es": {',', []string{"sí", "si", "verdadero"}, []string{"no", "falso"}},
	"it": {',', []string{"sì", "si", "vero"}, []string{"no", "falso"}},
	"pt": {',', []string{"sim", "verdadeiro"}, []string{"não", "nao", "falso"}},
	"nl": {',', []string{"ja", "waar"}, []string{"nee", "onwaar"}},
	"sv": {',', []string{"ja", "sant"}, []string{"nej", "falskt"}},
	"da": {',', []string{"ja", "sand"}, []string{"nej", "falsk"}},
	"nb": {',', []string{"ja", "sann"}, []string{"nei", "usann"}},
	"fi": {',', []string{"kyllä", "tosi"}, []string{"ei", "epätosi"}},
	"pl": {',', []string{"tak", "prawda"}, []string{"nie", "fałsz"}},
	"cs": {',', []string{"ano", "pravda"}, []string{"ne", "nepravda"}},
	"ja": {decimal: '.'},
	"zh": {decimal: '.'},
}

// dotCountries write a decimal point where their language elsewhere writes
// a comma (Switzerland; Spanish in Mexico and most of Latin America but
// not Argentina, Chile, Colombia...; kept to the ones asked for).
var dotCountries = map[string]bool{"CH": true, "LI": true, "MX": true}

// ParseLocale reads a locale name: a language ("fr") or a language and a
// country ("de-CH", "fr_CA", "en-IN"). Locales lists the languages.
func ParseLocale(name string) (*Locale, error) {
	lang, country, _ := strings.Cut(strings.ReplaceAll(name, "_", "-"), "-")
	l, ok := languages[strings.ToLower(lang)]
	if !ok {
		return nil, fmt.Errorf("unknown locale %q (languages: %s, optionally with a country: de-CH)", name, strings.Join(Locales(), ", "))
	}
	loc := &Locale{Name: name, Decimal: l.decimal, True: l.true, False: l.false}
	if dotCountries[strings.ToUpper(country)] {
		loc.Decimal = '.'
	}
	return loc, nil
}

// Locales lists the languages ParseLocale knows.
func Locales() []string {
	out := make([]string, 0, len(languages))
	for l := range languages {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}
