package sheetpdf

import (
	"strings"
	"testing"
)

// TestRenderEmoji: text the font cannot draw (emoji, other planes, control
// characters) is replaced in the print, and the rest of the sheet prints.
func TestRenderEmoji(t *testing.T) {
	s := sample(3)
	s.Orders[0].Address = "Москва, Тверская 7 🏠 подъезд 2"
	s.Orders[1].Customer.Name = "Анна 👩‍🦰\x00\x07 Петрова"
	s.Orders[2].Notes = "звонить 📞 заранее"
	s.Orders[2].Items[0].Name = "Чайник 🫖"
	out, _ := text(t, "ru", s)
	for _, want := range []string{"Москва, Тверская 7 ?", "подъезд 2", "Анна", "Петрова", "Чайник ?"} {
		if !strings.Contains(out, want) {
			t.Errorf("the PDF lacks %q; it reads:\n%s", want, out)
		}
	}
}
