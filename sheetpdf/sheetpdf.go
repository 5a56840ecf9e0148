// Package sheetpdf prints a route sheet as an A4 PDF: the sheet number as a
// Code128 barcode and a QR code, the courier and the day, the stops in order
// with the customer's window and the planned arrival, addresses, goods and
// payments, the totals and the signature lines, in the company's language,
// money and dates in its locale. A sheet not yet published is marked DRAFT
// on every page. Text uses a TrueType font with Cyrillic (DejaVu Sans from
// Debian's fonts-dejavu-core by default); any character the font cannot
// draw prints as "?", so a sheet always prints.
package sheetpdf

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"
	"codeberg.org/go-pdf/fpdf/contrib/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/courierhq/courier"
)

// DefaultFontDir is where Debian's fonts-dejavu-core puts DejaVu Sans.
const DefaultFontDir = "/usr/share/fonts/truetype/dejavu"

// Printer renders route sheets. Build it once with New (it reads the fonts).
type Printer struct {
	regular, bold []byte
	glyphs        map[rune]bool // what the font draws; nil: all of the BMP
	loc           *time.Location
	lang          string
	currency      string
}

// New reads DejaVuSans.ttf and DejaVuSans-Bold.ttf from fontDir.
func New(fontDir, lang, currency string, loc *time.Location) (*Printer, error) {
	if fontDir == "" {
		fontDir = DefaultFontDir
	}
	if _, ok := labels[lang]; !ok {
		return nil, fmt.Errorf("sheetpdf: no labels for language %q", lang)
	}
	p := &Printer{loc: loc, lang: lang, currency: currency}
	var err error
	if p.regular, err = os.ReadFile(filepath.Join(fontDir, "DejaVuSans.ttf")); err != nil {
		return nil, fmt.Errorf("sheetpdf: font (install fonts-dejavu-core or set COURIER_FONT_DIR): %w", err)
	}
	if p.bold, err = os.ReadFile(filepath.Join(fontDir, "DejaVuSans-Bold.ttf")); err != nil {
		return nil, fmt.Errorf("sheetpdf: font: %w", err)
	}
	if g, gb := cmapRunes(p.regular), cmapRunes(p.bold); g != nil && gb != nil {
		for r := range g {
			if !gb[r] {
				delete(g, r)
			}
		}
		p.glyphs = g
	}
	return p, nil
}

// Sheet is what is printed: the sheet, its orders in stop order, who drives and from where.
type Sheet struct {
	Sheet   *courier.RouteSheet
	Orders  []*courier.Order
	Courier *courier.Courier
	Depot   *courier.Depot
	Company string
}

var labels = map[string]map[string]string{
	"ru": {
		"title": "Маршрутный лист", "date": "Дата", "courier": "Курьер", "vehicle": "Транспорт", "depot": "Склад",
		"departure": "Выезд", "return": "Возврат", "no": "№", "window": "Окно клиента", "eta": "Приезд (план)", "address": "Адрес и получатель",
		"goods": "Товары", "payment": "Оплата", "mark": "Отметка", "cash": "наличные", "card": "карта", "prepaid": "оплачено",
		"totals": "Итого", "stops": "Точек", "weight": "Вес", "volume": "Объём", "toCollect": "К получению наличными",
		"byCard": "Картой", "distance": "Пробег", "duration": "Время в пути", "issued": "Выдал (диспетчер)",
		"received": "Принял (курьер)", "cashdesk": "Сдал в кассу / принял кассир", "page": "Стр.", "km": "км", "kg": "кг", "l": "л",
		"h": "ч", "min": "мин", "phone": "тел.", "draft": "ЧЕРНОВИК", "draftNote": "лист ещё не опубликован, маршрут может измениться",
		"foot": "пешком", "bike": "велосипед", "car": "легковой", "van": "фургон", "truck": "грузовик",
		"legend": "Окно клиента — время, обещанное клиенту; приезд (план) — расчётное время приезда курьера",
	},
	"en": {
		"title": "Route sheet", "date": "Date", "courier": "Courier", "vehicle": "Vehicle", "depot": "Depot",
		"departure": "Departure", "return": "Return", "no": "#", "window": "Customer's window", "eta": "Planned arrival", "address": "Address and customer",
		"goods": "Goods", "payment": "Payment", "mark": "Note", "cash": "cash", "card": "card", "prepaid": "prepaid",
		"totals": "Totals", "stops": "Stops", "weight": "Weight", "volume": "Volume", "toCollect": "Cash to collect",
		"byCard": "By card", "distance": "Distance", "duration": "Duration", "issued": "Issued by (dispatcher)",
		"received": "Received by (courier)", "cashdesk": "Handed in / cashier", "page": "Page", "km": "km", "kg": "kg", "l": "l",
		"h": "h", "min": "min", "phone": "tel.", "draft": "DRAFT", "draftNote": "this sheet is not published yet; the route may change",
		"foot": "on foot", "bike": "bicycle", "car": "car", "van": "van", "truck": "truck",
		"legend": "Customer's window: the time promised to the customer; planned arrival: when the courier is expected",
	},
}

// Render writes the sheet as a PDF to w.
func (p *Printer) Render(w io.Writer, s Sheet) error {
	if s.Sheet == nil || s.Courier == nil || s.Depot == nil || len(s.Orders) != len(s.Sheet.Stops) {
		return errors.New("sheetpdf: incomplete sheet")
	}
	s = p.printable(s)
	L := labels[p.lang]
	draft := s.Sheet.Status == courier.SheetDraft
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetTitle(L["title"]+" "+s.Sheet.Number, true)
	pdf.SetCreator("courierd", true)
	pdf.AddUTF8FontFromBytes("dejavu", "", p.regular)
	pdf.AddUTF8FontFromBytes("dejavu", "B", p.bold)
	pdf.SetMargins(12, 12, 12)
	pdf.SetAutoPageBreak(true, 14)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-10)
		pdf.SetFont("dejavu", "", 7)
		pdf.CellFormat(0, 4, fmt.Sprintf("%s %s · %s %d/{nb}", L["title"], s.Sheet.Number, L["page"], pdf.PageNo()), "", 0, "R", false, 0, "")
	})
	pdf.AliasNbPages("{nb}")
	if draft {
		// Under everything on each page: DRAFT across it, in light grey.
		pdf.SetHeaderFunc(func() {
			pdf.SetFont("dejavu", "B", 72)
			pdf.SetTextColor(225, 225, 225)
			pdf.TransformBegin()
			pdf.TransformRotate(35, 105, 160)
			w := pdf.GetStringWidth(L["draft"])
			pdf.Text(105-w/2, 170, L["draft"])
			pdf.TransformEnd()
			// And a line at the top that says it in words.
			pdf.SetFont("dejavu", "B", 9)
			pdf.SetTextColor(183, 28, 28)
			pdf.SetXY(12, 6)
			pdf.CellFormat(0, 5, L["draft"]+" · "+L["draftNote"], "", 0, "L", false, 0, "")
			pdf.SetTextColor(0, 0, 0)
			pdf.SetXY(12, 12)
		})
	}
	pdf.AddPage()

	// Header: title, barcode, QR.
	pdf.SetFont("dejavu", "B", 16)
	pdf.CellFormat(110, 8, L["title"]+" № "+s.Sheet.Number, "", 1, "L", false, 0, "")
	if s.Company != "" {
		pdf.SetFont("dejavu", "", 9)
		pdf.CellFormat(110, 5, s.Company, "", 1, "L", false, 0, "")
	}
	bc := barcode.RegisterCode128(pdf, s.Sheet.Number)
	barcode.Barcode(pdf, bc, 128, 10, 52, 14, false)
	pdf.SetFont("dejavu", "", 8)
	pdf.Text(141, 28, s.Sheet.Number)
	qrKey := barcode.RegisterQR(pdf, s.Sheet.Number, qr.M, qr.Auto)
	barcode.Barcode(pdf, qrKey, 184, 10, 16, 16, false)

	pdf.SetY(max(pdf.GetY(), 32))
	pdf.SetFont("dejavu", "", 10)
	day, _ := time.ParseInLocation(time.DateOnly, s.Sheet.Date, p.loc)
	line := func(k, v string) {
		pdf.SetFont("dejavu", "B", 10)
		pdf.CellFormat(32, 6, L[k]+":", "", 0, "L", false, 0, "")
		pdf.SetFont("dejavu", "", 10)
		pdf.CellFormat(0, 6, v, "", 1, "L", false, 0, "")
	}
	line("date", p.date(day))
	line("courier", s.Courier.Name+", "+L["phone"]+" "+s.Courier.Phone)
	vehicle := L[s.Courier.Vehicle.Type]
	if vehicle == "" {
		vehicle = s.Courier.Vehicle.Type
	}
	line("vehicle", fmt.Sprintf("%s, %s %s, %s %s", vehicle, p.number(s.Courier.Vehicle.CapacityKg), L["kg"], p.number(s.Courier.Vehicle.CapacityL), L["l"]))
	line("depot", s.Depot.Name+", "+s.Depot.Address)
	line("departure", p.clock(s.Sheet.Start)+"   "+L["return"]+": "+p.clock(s.Sheet.End))
	pdf.Ln(2)

	// Stops table: each column labelled, the time as the customer's window
	// and the planned arrival apart.
	pdf.SetFont("dejavu", "", 7)
	pdf.MultiCell(0, 3.5, L["legend"], "", "L", false)
	pdf.Ln(1)
	cols := []struct {
		key   string
		width float64
	}{{"no", 8}, {"window", 23}, {"eta", 16}, {"address", 62}, {"goods", 35}, {"payment", 24}, {"mark", 18}}
	header := func() {
		pdf.SetFont("dejavu", "B", 7.5)
		pdf.SetFillColor(230, 230, 230)
		x, y := pdf.GetX(), pdf.GetY()
		const h = 8
		for _, c := range cols {
			pdf.Rect(x, y, c.width, h, "FD")
			lines := pdf.SplitText(L[c.key], c.width-1.5)
			top := y + (h-float64(len(lines))*3.4)/2
			for i, l := range lines {
				pdf.SetXY(x+0.75, top+float64(i)*3.4)
				pdf.CellFormat(c.width-1.5, 3.4, l, "", 0, "C", false, 0, "")
			}
			x += c.width
		}
		pdf.SetXY(12, y+h)
	}
	header()
	var weight, volume float64
	var cash, card int64
	for i, st := range s.Sheet.Stops {
		o := s.Orders[i]
		weight += o.WeightKg
		volume += o.VolumeL
		pay := L[string(o.COD.Method)]
		if o.COD.Method != courier.PayPrepaid {
			pay += "\n" + p.money(o.COD.Amount, o.COD.Currency)
		}
		switch o.COD.Method {
		case courier.PayCash:
			cash += o.COD.Amount
		case courier.PayCard:
			card += o.COD.Amount
		}
		var goods []string
		for _, it := range o.Items {
			g := fmt.Sprintf("%s ×%d", it.Name, it.Qty)
			if it.Barcode != "" {
				g += " (" + it.Barcode + ")"
			}
			goods = append(goods, g)
		}
		goods = append(goods, fmt.Sprintf("%s %s", p.number(o.WeightKg), L["kg"]))
		addr := o.Address + "\n" + o.Customer.Name + ", " + o.Customer.Phone
		if o.ExternalID != "" {
			addr = o.ExternalID + " · " + addr
		}
		if o.Notes != "" {
			addr += "\n" + o.Notes
		}
		cells := []string{fmt.Sprint(st.Seq), p.clock(st.ETAFrom) + "–" + p.clock(st.ETATo), p.clock(st.ETA), addr, strings.Join(goods, "\n"), pay, ""}
		p.row(pdf, cols, cells, header)
	}

	// Totals.
	pdf.Ln(3)
	pdf.SetFont("dejavu", "B", 10)
	pdf.CellFormat(0, 6, L["totals"], "", 1, "L", false, 0, "")
	pdf.SetFont("dejavu", "", 10)
	pdf.CellFormat(0, 5, fmt.Sprintf("%s: %d   %s: %s %s   %s: %s %s   %s: %s %s   %s: %s",
		L["stops"], len(s.Sheet.Stops), L["weight"], p.number(weight), L["kg"], L["volume"], p.number(volume), L["l"],
		L["distance"], p.number(float64(s.Sheet.DistanceM)/1000), L["km"], L["duration"], p.duration(s.Sheet.DurationS)), "", 1, "L", false, 0, "")
	pdf.SetFont("dejavu", "B", 12)
	pdf.CellFormat(0, 8, fmt.Sprintf("%s: %s", L["toCollect"], p.money(cash, p.currency)), "", 1, "L", false, 0, "")
	pdf.SetFont("dejavu", "", 10)
	pdf.CellFormat(0, 5, fmt.Sprintf("%s: %s", L["byCard"], p.money(card, p.currency)), "", 1, "L", false, 0, "")

	// Signatures.
	pdf.Ln(8)
	for _, k := range []string{"issued", "received", "cashdesk"} {
		pdf.CellFormat(70, 8, L[k], "", 0, "L", false, 0, "")
		pdf.CellFormat(0, 8, "______________________  /  ______________", "", 1, "L", false, 0, "")
	}
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("sheetpdf: %w", err)
	}
	return pdf.Output(w)
}

// row draws one table row of multi-line cells, all as tall as the tallest,
// starting a new page (with the header again) when it does not fit.
func (p *Printer) row(pdf *fpdf.Fpdf, cols []struct {
	key   string
	width float64
}, cells []string, header func()) {
	const lh = 4.2
	pdf.SetFont("dejavu", "", 8)
	lines := 1
	for i, c := range cols {
		n := len(pdf.SplitText(cells[i], c.width-2))
		if n > lines {
			lines = n
		}
	}
	h := float64(lines)*lh + 1.5
	_, pageH := pdf.GetPageSize()
	_, _, _, bottom := pdf.GetMargins()
	if pdf.GetY()+h > pageH-bottom-4 {
		pdf.AddPage()
		header()
		pdf.SetFont("dejavu", "", 8)
	}
	x, y := pdf.GetX(), pdf.GetY()
	for i, c := range cols {
		pdf.Rect(x, y, c.width, h, "D")
		pdf.SetXY(x+1, y+0.8)
		pdf.MultiCell(c.width-2, lh, cells[i], "", "L", false)
		x += c.width
	}
	pdf.SetXY(pdf.GetX(), y+h)
	pdf.SetX(12)
}

func (p *Printer) clock(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(p.loc).Format("15:04")
}

func (p *Printer) duration(sec int64) string {
	L := labels[p.lang]
	return fmt.Sprintf("%d %s %02d %s", sec/3600, L["h"], sec%3600/60, L["min"])
}

// printable returns a copy of s whose text the PDF can hold: characters
// beyond the Basic Multilingual Plane (emoji), which the PDF library cannot
// embed, and characters the font has no glyph for (Chinese, Arabic, ...),
// become "?"; control characters and invisible joiners are dropped. People
// type anything into names and addresses; the sheet prints anyway.
func (p *Printer) printable(s Sheet) Sheet {
	clean := func(v string) string {
		v = strings.ToValidUTF8(v, "?")
		return strings.Map(func(r rune) rune {
			switch {
			case r == '\n' || r == '\t':
				return ' '
			case unicode.IsControl(r) || r == '\u200d' || r == '\ufe0f' || r == '\ufe0e':
				return -1
			case r > 0xFFFF || r == utf8.RuneError:
				return '?'
			case p.glyphs != nil && !p.glyphs[r] && !unicode.IsSpace(r):
				return '?'
			}
			return r
		}, v)
	}
	s.Company = clean(s.Company)
	c, d := *s.Courier, *s.Depot
	c.Name, c.Phone = clean(c.Name), clean(c.Phone)
	d.Name, d.Address = clean(d.Name), clean(d.Address)
	s.Courier, s.Depot = &c, &d
	orders := make([]*courier.Order, len(s.Orders))
	for i, o := range s.Orders {
		cp := *o
		cp.ExternalID, cp.Address, cp.Notes = clean(cp.ExternalID), clean(cp.Address), clean(cp.Notes)
		cp.Customer.Name, cp.Customer.Phone, cp.Customer.Email = clean(cp.Customer.Name), clean(cp.Customer.Phone), clean(cp.Customer.Email)
		cp.Items = make([]courier.Item, len(o.Items))
		for j, it := range o.Items {
			cp.Items[j] = courier.Item{SKU: clean(it.SKU), Name: clean(it.Name), Qty: it.Qty, Barcode: clean(it.Barcode)}
		}
		orders[i] = &cp
	}
	s.Orders = orders
	return s
}
