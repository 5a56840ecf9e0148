package sheetpdf

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/courierhq/courier"
)

func sample(stops int) Sheet {
	msk, _ := time.LoadLocation("Europe/Moscow")
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, msk).UTC()
	sh := &courier.RouteSheet{ID: 18, Number: courier.SheetNumber(18), Date: "2026-11-23", Start: start,
		End: start.Add(6 * time.Hour), DistanceM: 48250, DurationS: 5*3600 + 7*60}
	var orders []*courier.Order
	for i := range stops {
		eta := start.Add(time.Duration(10*(i+1)) * time.Minute)
		sh.Stops = append(sh.Stops, courier.SheetStop{OrderID: int64(100 + i), Seq: i + 1, ETA: eta, ETAFrom: eta.Add(-30 * time.Minute), ETATo: eta.Add(30 * time.Minute)})
		cod := courier.COD{Amount: 249900, Currency: "RUB", Method: courier.PayCash}
		if i%3 == 1 {
			cod.Method = courier.PayCard
		} else if i%3 == 2 {
			cod = courier.COD{Currency: "RUB", Method: courier.PayPrepaid}
		}
		orders = append(orders, &courier.Order{ID: int64(100 + i), ExternalID: fmt.Sprintf("SHOP-%d", 100+i),
			Customer: courier.Customer{Name: "Анна Петрова", Phone: "+7 903 123-45-67"},
			Address:  fmt.Sprintf("Москва, Тверская ул., д. %d, кв. 12", i+1), WeightKg: 2.5, VolumeL: 6,
			Items: []courier.Item{{Name: "Чайник", Qty: 1, Barcode: "4600000000017"}}, COD: cod})
	}
	return Sheet{Sheet: sh, Orders: orders, Company: "ООО «Быстрая доставка»",
		Courier: &courier.Courier{Name: "Артём Белов", Phone: "+7 916 555-10-20", Vehicle: courier.Vehicle{Type: "van", CapacityKg: 800, CapacityL: 3000}},
		Depot:   &courier.Depot{Name: "Склад Павелецкая", Address: "Кожевническая ул., 14"}}
}

// text renders and reads the PDF back with pdftotext (poppler-utils, installed by scripts/packages.sh).
func text(t *testing.T, lang string, s Sheet) (string, int) {
	t.Helper()
	msk, _ := time.LoadLocation("Europe/Moscow")
	p, err := New("", lang, "RUB", msk)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.Render(&buf, s); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", buf.Bytes()[:20])
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "sheet.pdf")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	raw, err := exec.Command("pdftotext", "-layout", file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext (run scripts/packages.sh): %v", err)
	}
	out := strings.ReplaceAll(string(raw), "\u00a0", " ")
	info, err := exec.Command("pdfinfo", file).Output()
	if err != nil {
		t.Fatal(err)
	}
	pages := 0
	for _, l := range strings.Split(string(info), "\n") {
		if strings.HasPrefix(l, "Pages:") {
			fmt.Sscan(strings.TrimSpace(strings.TrimPrefix(l, "Pages:")), &pages)
		}
	}
	return out, pages
}

func TestRenderRussian(t *testing.T) {
	s := sample(5)
	out, pages := text(t, "ru", s)
	for _, want := range []string{
		"Маршрутный лист № " + courier.SheetNumber(18),
		"Артём Белов", "Склад Павелецкая", "23.11.2026", "Выезд:", "09:00",
		"Москва, Тверская ул., д. 1,", "Анна Петрова", "Чайник ×1", "4600000000017",
		"наличные", "карта", "оплачено", "2 499,00 ₽",
		"К получению наличными: 4 998,00 ₽", // stops 1 and 4 are cash
		"Картой: 4 998,00 ₽", "48,2 км", "5 ч 07 мин", "фургон, 800 кг",
		"Выдал (диспетчер)", "Принял (курьер)", "Сдал в кассу",
		"Окно клиента —", "Приезд", "(план)", "08:40–09:40", "09:10", // stop 1: window and planned arrival
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the PDF lacks %q; it reads:\n%s", want, out)
		}
	}
	if pages != 1 {
		t.Errorf("%d pages for 5 stops", pages)
	}
}

func TestRenderLongSheetEnglish(t *testing.T) {
	out, pages := text(t, "en", sample(45))
	if pages < 2 || !strings.Contains(out, "Route sheet "+courier.SheetNumber(18)) || !strings.Contains(out, "Cash to collect: ₽37,485.00") ||
		strings.Count(out, "Address and customer") != pages || !strings.Contains(out, "23/11/2026") {
		t.Errorf("%d pages; the header must repeat on each:\n%s", pages, out)
	}
	if !strings.Contains(out, "Page 2/") {
		t.Errorf("no page numbers")
	}
}

func TestRenderBadInput(t *testing.T) {
	p, err := New("", "ru", "RUB", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	s := sample(2)
	s.Orders = s.Orders[:1]
	if err := p.Render(&bytes.Buffer{}, s); err == nil {
		t.Error("a sheet whose orders do not match its stops was printed")
	}
	if _, err := New(t.TempDir(), "ru", "RUB", time.UTC); err == nil || !strings.Contains(err.Error(), "fonts-dejavu-core") {
		t.Errorf("missing font: %v", err)
	}
	if _, err := New("", "fr", "RUB", time.UTC); err == nil {
		t.Error("unknown language accepted")
	}
}

// TestRenderDraft: a sheet not yet published says DRAFT on every page; a
// published one does not.
func TestRenderDraft(t *testing.T) {
	s := sample(45)
	s.Sheet.Status = courier.SheetDraft
	out, pages := text(t, "ru", s)
	if n := strings.Count(out, "ЧЕРНОВИК · лист ещё не опубликован"); n != pages || pages < 2 {
		t.Errorf("a draft of %d pages marked %d times:\n%s", pages, n, out)
	}
	s.Sheet.Status = courier.SheetPublished
	if out, _ := text(t, "ru", s); strings.Contains(out, "ЧЕРНОВИК") || strings.Contains(out, "не опубликован") {
		t.Errorf("a published sheet is marked a draft")
	}
	s.Sheet.Status = courier.SheetDraft
	if out, _ := text(t, "en", s); !strings.Contains(out, "DRAFT · this sheet is not published yet") {
		t.Errorf("an English draft is not marked")
	}
}

// TestRenderAnyText: whatever people type into names and addresses (other
// scripts the font lacks, right-to-left marks, joiners, broken UTF-8, a
// word longer than its column, tabs and newlines) prints or is replaced;
// rendering never fails.
func TestRenderAnyText(t *testing.T) {
	s := sample(4)
	s.Sheet.Status = courier.SheetPublished
	s.Orders[0].Address = "東京都千代田区 1-1 \u200fدبي\u200e मुंबई"
	s.Orders[1].Customer.Name = "Zoë Ñúñez-Øster \xff\xfe Łukasz Ğül"
	s.Orders[2].Notes = strings.Repeat("Оченьдлинноеслово", 20) + "\tи\nещё"
	s.Orders[3].Items[0].Name = "Ёлка \u0301\u200d🎄 (ГОСТ №5)"
	s.Courier.Name = "Ахмед ☺ ✓"
	out, _ := text(t, "ru", s)
	for _, want := range []string{"Zoë Ñúñez-Øster", "Łukasz Ğül", "Ёлка", "Оченьдлинноеслово", "Ахмед ☺ ✓"} {
		if !strings.Contains(out, want) {
			t.Errorf("the PDF lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "東") || !strings.Contains(out, "???") {
		t.Errorf("characters the font lacks are not replaced:\n%s", out)
	}
}

// TestMoneyInTheLocale: amounts as the company's language writes them, a
// true minus, the currency's own minor digits.
func TestMoneyInTheLocale(t *testing.T) {
	ru := &Printer{lang: "ru", currency: "RUB"}
	en := &Printer{lang: "en", currency: "RUB"}
	for _, c := range []struct {
		p    *Printer
		amt  int64
		cur  string
		want string
	}{
		{ru, 330000, "RUB", "3\u00a0300,00\u00a0₽"}, {ru, 5, "RUB", "0,05\u00a0₽"}, {ru, -50000, "RUB", "\u22125\u00a0000,00\u00a0₽"[0:0] + "\u2212500,00\u00a0₽"},
		{ru, 123456789, "EUR", "1\u00a0234\u00a0567,89\u00a0€"}, {ru, 1500, "JPY", "1\u00a0500\u00a0¥"}, {ru, 100, "XYZ", "1,00\u00a0XYZ"},
		{en, 330000, "RUB", "₽3,300.00"}, {en, -1999, "USD", "\u2212$19.99"}, {en, 100000000, "", "₽1,000,000.00"},
	} {
		if got := c.p.money(c.amt, c.cur); got != c.want {
			t.Errorf("%s money(%d, %s) = %q, want %q", c.p.lang, c.amt, c.cur, got, c.want)
		}
	}
}
