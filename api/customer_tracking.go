package api

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/notify"
	"github.com/gin-gonic/gin"
)

// The customer's tracking link: GET /t/{token} is a small page, GET
// /api/v1/track/{token} its JSON. No login: the unguessable token is the
// key. They show one order and, while the courier is on the way to this very
// stop, roughly where the courier is (notify.PositionDecimals); while other
// stops come first only how many and the ETA. Nothing about other orders or
// the courier as a person. Too many requests for one link answer 429 with
// Retry-After.

type trackJSON struct {
	OrderNumber string          `json:"order_number"`
	Status      string          `json:"status"`
	StatusText  string          `json:"status_text"`
	TimeWindow  *timeWindowJSON `json:"time_window"`
	ETA         *time.Time      `json:"eta"`
	StopsAhead  *int            `json:"stops_ahead"`
	Courier     *trackCourier   `json:"courier"`
	Company     string          `json:"company"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

type trackCourier struct {
	Location   latLngJSON `json:"location"`
	RecordedAt time.Time  `json:"recorded_at"`
}

// statusTexts say an order status to a customer, per language.
var statusTexts = map[string]map[courier.OrderStatus]string{
	"en": {
		courier.StatusNew: "Order received", courier.StatusConfirmed: "Order confirmed", courier.StatusAwaitingStock: "Being prepared",
		courier.StatusReady: "Ready for delivery", courier.StatusPlanned: "Scheduled for delivery", courier.StatusOutForDelivery: "On its way",
		courier.StatusDelivered: "Delivered", courier.StatusFailedAttempt: "Delivery attempt failed: we will contact you",
		courier.StatusRefused: "Refused", courier.StatusReturnedToDepot: "Returned to our depot", courier.StatusCancelled: "Cancelled",
	},
	"ru": {
		courier.StatusNew: "Заказ принят", courier.StatusConfirmed: "Заказ подтверждён", courier.StatusAwaitingStock: "Собираем заказ",
		courier.StatusReady: "Готов к доставке", courier.StatusPlanned: "Доставка запланирована", courier.StatusOutForDelivery: "Курьер в пути",
		courier.StatusDelivered: "Доставлен", courier.StatusFailedAttempt: "Не удалось доставить: мы с вами свяжемся",
		courier.StatusRefused: "Отказ от заказа", courier.StatusReturnedToDepot: "Возвращён на склад", courier.StatusCancelled: "Отменён",
	},
}

func statusText(lang string, st courier.OrderStatus) string {
	if m, ok := statusTexts[lang]; ok {
		return m[st]
	}
	return statusTexts["ru"][st]
}

func toTrack(v *notify.TrackView) trackJSON {
	out := trackJSON{OrderNumber: v.OrderNumber, Status: string(v.Status), StatusText: statusText(v.Language, v.Status), Company: v.Company,
		UpdatedAt: v.UpdatedAt, ETA: nullTime(v.ETA)}
	if v.Window != nil {
		out.TimeWindow = &timeWindowJSON{From: v.Window.From, To: v.Window.To}
	}
	if v.StopsAhead >= 0 {
		n := v.StopsAhead
		out.StopsAhead = &n
	}
	if v.Courier != nil {
		out.Courier = &trackCourier{Location: toLatLng(*v.Courier), RecordedAt: v.CourierAt}
	}
	return out
}

func (s *Server) trackOrder(c *gin.Context) error {
	n, err := s.notifier()
	if err != nil {
		return err
	}
	v, err := n.Track(c.Request.Context(), c.Param("token"))
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "no-referrer")
	c.JSON(http.StatusOK, toTrack(v))
	return nil
}

// pageTexts are the fixed words of the tracking page.
var pageTexts = map[string]map[string]string{
	"en": {"title": "Order", "window": "Delivery window", "eta": "Expected at", "ahead": "Stops before yours",
		"courier": "The courier was last seen at", "gone": "This tracking link does not exist or has expired.", "updated": "Updated"},
	"ru": {"title": "Заказ", "window": "Интервал доставки", "eta": "Ожидаемое время", "ahead": "Остановок перед вами",
		"courier": "Курьер был замечен в", "gone": "Ссылка для отслеживания не существует или устарела.", "updated": "Обновлено"},
}

var trackPage = template.Must(template.New("track").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{.T.title}} {{.V.OrderNumber}}</title>
<style nonce="{{.Nonce}}">body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.3rem}.status{font-size:1.6rem;font-weight:600;margin:1rem 0}dt{color:#666;font-size:.9rem}dd{margin:0 0 .8rem}</style>
</head><body>
{{if .Company}}<p>{{.Company}}</p>{{end}}
{{if .Gone}}<p>{{.T.gone}}</p>{{else}}
<h1>{{.T.title}} {{.V.OrderNumber}}</h1>
<p class="status" id="status">{{.V.StatusText}}</p>
<dl>
{{if .Window}}<dt>{{.T.window}}</dt><dd id="window">{{.Window}}</dd>{{end}}
<dt{{if not .ETA}} hidden{{end}} id="eta-label">{{.T.eta}}</dt><dd id="eta">{{.ETA}}</dd>
<dt{{if not .V.StopsAhead}} hidden{{end}} id="ahead-label">{{.T.ahead}}</dt><dd id="ahead">{{with .V.StopsAhead}}{{.}}{{end}}</dd>
<dt{{if not .Courier}} hidden{{end}} id="courier-label">{{.T.courier}}</dt><dd id="courier">{{.Courier}}</dd>
</dl>
<p><small>{{.T.updated}} <span id="updated">{{.Updated}}</span></small></p>
<script nonce="{{.Nonce}}">
(function(){
  var url = {{.API}}, tz = {{.TZ}}, lang = {{.Lang}}, dec = {{.Decimals}};
  function hm(s){ return s ? new Date(s).toLocaleTimeString(lang, {hour:"2-digit", minute:"2-digit", timeZone: tz}) : ""; }
  function show(id, on){ document.getElementById(id + "-label").hidden = !on; }
  function poll(){
    fetch(url, {cache: "no-store"}).then(function(r){ return r.ok ? r.json() : null; }).then(function(v){
      if (!v) return;
      document.getElementById("status").textContent = v.status_text;
      document.getElementById("eta").textContent = hm(v.eta); show("eta", !!v.eta);
      document.getElementById("ahead").textContent = v.stops_ahead === null ? "" : v.stops_ahead; show("ahead", v.stops_ahead !== null);
      document.getElementById("courier").textContent = v.courier ? v.courier.location.lat.toFixed(dec) + ", " + v.courier.location.lng.toFixed(dec) + " (" + hm(v.courier.recorded_at) + ")" : "";
      show("courier", !!v.courier);
      document.getElementById("updated").textContent = hm(new Date().toISOString());
    }).catch(function(){});
  }
  setInterval(poll, 30000);
})();
</script>
{{end}}
</body></html>
`))

// trackingPage serves the customer's tracking page, rendered on the server
// (html/template escapes everything) with a small script of ours that
// refreshes it from /api/v1/track/{token}.
func (s *Server) trackingPage(c *gin.Context) error {
	n, err := s.notifier()
	if err != nil {
		return err
	}
	cfg := n.Config()
	lang := cfg.Language
	if _, ok := pageTexts[lang]; !ok {
		lang = "ru"
	}
	var nb [16]byte
	_, _ = rand.Read(nb[:])
	nonce := base64.StdEncoding.EncodeToString(nb[:])
	token := c.Param("token")
	data := map[string]any{"Lang": lang, "T": pageTexts[lang], "Nonce": nonce, "Company": cfg.Company,
		"API": "/api/v1/track/" + token, "TZ": cfg.Location.String(), "Decimals": notify.PositionDecimals}
	status := http.StatusOK
	v, err := n.Track(c.Request.Context(), token)
	if courier.ErrorCode(err) == courier.ENOTFOUND {
		status, data["Gone"] = http.StatusNotFound, true
	} else if err != nil {
		return err
	} else {
		hm := func(t time.Time) string { return t.In(cfg.Location).Format("15:04") }
		j := toTrack(v)
		data["V"] = j
		if v.Window != nil {
			data["Window"] = v.Window.From.In(cfg.Location).Format("02.01 15:04") + "–" + hm(v.Window.To)
		}
		if !v.ETA.IsZero() {
			data["ETA"] = hm(v.ETA)
		}
		if v.Courier != nil {
			data["Courier"] = formatLatLng(*v.Courier) + " (" + hm(v.CourierAt) + ")"
		}
		data["Updated"] = hm(s.clock.Now())
	}
	var buf bytes.Buffer
	if err := trackPage.Execute(&buf, data); err != nil {
		return err
	}
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'nonce-"+nonce+"'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	return nil
}

func formatLatLng(p courier.LatLng) string {
	return trimFloat(p.Lat) + ", " + trimFloat(p.Lng)
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', notify.PositionDecimals, 64) }
