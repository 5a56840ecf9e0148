package sheetpdf

import (
	"encoding/binary"
	"strconv"
	"strings"
	"time"

	"github.com/courierhq/courier"
)

// Money and dates in the company's locale: "3 300,00 ₽" and 23.11.2026 in
// Russian, "₽3,300.00" and 23/11/2026 in English.

// symbols are the currency signs DejaVu Sans draws; others print their ISO code.
var symbols = map[string]string{"RUB": "₽", "USD": "$", "EUR": "€", "GBP": "£", "KZT": "₸", "UAH": "₴", "JPY": "¥", "CNY": "¥",
	"TRY": "₺", "INR": "₹", "BYN": "Br", "AMD": "֏", "GEL": "₾"}

// money formats minor units of currency in the language's way, with a true
// minus sign (U+2212) when negative.
func (p *Printer) money(amount int64, currency string) string {
	if currency == "" {
		currency = p.currency
	}
	d := courier.MinorDigits(currency)
	neg := amount < 0
	if neg {
		amount = -amount
	}
	pow := int64(1)
	for range d {
		pow *= 10
	}
	group, point := ",", "."
	if p.lang == "ru" {
		group, point = "\u00a0", ","
	}
	s := groups(strconv.FormatInt(amount/pow, 10), group)
	if d > 0 {
		s += point + leftPad(strconv.FormatInt(amount%pow, 10), d)
	}
	sym, ok := symbols[currency]
	switch {
	case !ok:
		s = s + "\u00a0" + currency
	case p.lang == "ru":
		s = s + "\u00a0" + sym
	default:
		s = sym + s
	}
	if neg {
		s = "\u2212" + s
	}
	return s
}

func groups(digits, sep string) string {
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

// date is a day in the language's way.
func (p *Printer) date(t time.Time) string {
	if p.lang == "ru" {
		return t.Format("02.01.2006")
	}
	return t.Format("02/01/2006")
}

// number is a measure with one decimal at most, in the language's way (12,5 or 12.5).
func (p *Printer) number(v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	if p.lang == "ru" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// cmapRunes reads the characters a TrueType font has glyphs for, from its
// Unicode BMP cmap (platform 3, encoding 1, format 4). Nil when it cannot.
func cmapRunes(ttf []byte) map[rune]bool {
	u16 := func(off int) int {
		if off+2 > len(ttf) {
			return -1
		}
		return int(binary.BigEndian.Uint16(ttf[off:]))
	}
	u32 := func(off int) int {
		if off+4 > len(ttf) {
			return -1
		}
		return int(binary.BigEndian.Uint32(ttf[off:]))
	}
	n := u16(4)
	cmap := -1
	for i := 0; i < n; i++ {
		rec := 12 + 16*i
		if rec+16 > len(ttf) {
			return nil
		}
		if string(ttf[rec:rec+4]) == "cmap" {
			cmap = u32(rec + 8)
		}
	}
	if cmap < 0 {
		return nil
	}
	sub := -1
	for i := 0; i < u16(cmap+2); i++ {
		rec := cmap + 4 + 8*i
		if u16(rec) == 3 && u16(rec+2) == 1 {
			sub = cmap + u32(rec+4)
		}
	}
	if sub < 0 || u16(sub) != 4 {
		return nil
	}
	segs := u16(sub+6) / 2
	ends, starts, deltas, ranges := sub+14, sub+16+2*segs, sub+16+4*segs, sub+16+6*segs
	out := map[rune]bool{}
	for i := 0; i < segs; i++ {
		end, start, delta, ro := u16(ends+2*i), u16(starts+2*i), u16(deltas+2*i), u16(ranges+2*i)
		if end < 0 || start < 0 || delta < 0 || ro < 0 {
			return nil
		}
		for c := start; c <= end && c != 0xFFFF; c++ {
			g := 0
			if ro == 0 {
				g = (c + delta) & 0xFFFF
			} else {
				at := ranges + 2*i + ro + 2*(c-start)
				if g = u16(at); g > 0 {
					g = (g + delta) & 0xFFFF
				}
			}
			if g > 0 {
				out[rune(c)] = true
			}
		}
	}
	return out
}
