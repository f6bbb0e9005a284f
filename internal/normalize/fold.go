package normalize

import (
	"unicode"
	"unicode/utf8"
)

// foldGroups lists the accented Latin letters (Latin-1 Supplement and
// Latin Extended-A) with the letters they fold to in names: "Catégorie",
// "CATEGORIE" and "categorie" are one name.
var foldGroups = []struct{ letters, to string }{
	{"ÀÁÂÃÄÅàáâãäåĀāĂăĄą", "a"},
	{"Ææ", "ae"},
	{"ÇçĆćĈĉĊċČč", "c"},
	{"ÐðĎďĐđ", "d"},
	{"ÈÉÊËèéêëĒēĔĕĖėĘęĚě", "e"},
	{"ĜĝĞğĠġĢģ", "g"},
	{"ĤĥĦħ", "h"},
	{"ÌÍÎÏìíîïĨĩĪīĬĭĮįİı", "i"},
	{"Ĳĳ", "ij"},
	{"Ĵĵ", "j"},
	{"Ķķĸ", "k"},
	{"ĹĺĻļĽľĿŀŁł", "l"},
	{"ÑñŃńŅņŇňŉŊŋ", "n"},
	{"ÒÓÔÕÖØòóôõöøŌōŎŏŐő", "o"},
	{"Œœ", "oe"},
	{"ŔŕŖŗŘř", "r"},
	{"ŚśŜŝŞşŠšſ", "s"},
	{"ß", "ss"},
	{"ŢţŤťŦŧ", "t"},
	{"Þþ", "th"},
	{"ÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲų", "u"},
	{"Ŵŵ", "w"},
	{"ÝýÿŶŷŸ", "y"},
	{"ŹźŻżŽž", "z"},
}

// folded maps each rune of foldGroups to its letters.
var folded = func() map[rune]string {
	m := map[rune]string{}
	for _, g := range foldGroups {
		for _, r := range g.letters {
			m[r] = g.to
		}
	}
	return m
}()

// appendFolded appends the lower-case, accent-free form of a letter or
// digit r that is not ASCII.
func appendFolded(dst []byte, r rune) []byte {
	if s, ok := folded[r]; ok {
		return append(dst, s...)
	}
	return utf8.AppendRune(dst, unicode.ToLower(r))
}
