package notify

import (
	"fmt"
	"time"
)

// texts are the message templates of one language. Each is a fmt format;
// the comment names its arguments in order.
type texts struct {
	sheetPublishedTitle string // sheet number
	sheetPublishedBody  string // stops, date
	sheetChangedTitle   string // sheet number
	stopAddedBody       string // order number, address
	stopRemovedBody     string // order number
	sheetChangedBody    string // -
	messageTitle        string // -

	outTitle        string            // order number
	outBody         string            // window, tracking URL
	arrivingTitle   string            // order number
	arrivingBody    string            // minutes, time, tracking URL
	deliveredTitle  string            // order number
	deliveredBody   string            // -
	failedTitle     string            // order number
	failedBody      string            // reason, tracking URL
	rescheduledBody string            // reason, wished date, tracking URL
	reasons         map[string]string // a courier's fail reason in words
	windowBetween   string            // from, to
	windowToday     string            // window
	windowOn        string            // date, window
	unknownWindow   string            // -
	dateLayout      string            // Go layout of a date
	noReason        string            // -
	statusPageTitle string            // order number
}

var templates = map[string]texts{
	"en": {
		sheetPublishedTitle: "New route sheet %s",
		sheetPublishedBody:  "%d stops on %s. Open the app to start.",
		sheetChangedTitle:   "Route sheet %s changed",
		stopAddedBody:       "Stop added: order %s, %s.",
		stopRemovedBody:     "Stop removed: order %s.",
		sheetChangedBody:    "The dispatcher changed your route. Open the app to see it.",
		messageTitle:        "Message from the dispatcher",

		outTitle:        "Order %s is on its way",
		outBody:         "The courier will come %s. Track it: %s",
		arrivingTitle:   "Order %s: the courier is coming",
		arrivingBody:    "The courier will be with you in about %d min (around %s). Track it: %s",
		deliveredTitle:  "Order %s is delivered",
		deliveredBody:   "Thank you! Your order has been handed over.",
		failedTitle:     "We could not deliver order %s",
		failedBody:      "Reason: %s. We will contact you to agree on a new delivery time; until then your order stays at our depot. Details: %s",
		rescheduledBody: "Reason: %s. As you asked, we will bring it on %s; the time will follow. Details: %s",
		reasons: map[string]string{"no_answer": "nobody answered", "refused": "the order was refused", "wrong_address": "the address was wrong",
			"damaged": "the goods were damaged", "customer_absent": "nobody was there", "reschedule": "you asked for another day",
			"handed_back": "the courier could not reach you today"},
		windowBetween:   "between %s and %s",
		windowToday:     "today %s",
		windowOn:        "on %s %s",
		unknownWindow:   "today",
		dateLayout:      "2 Jan",
		noReason:        "not given",
		statusPageTitle: "Order %s",
	},
	"ru": {
		sheetPublishedTitle: "Новый маршрутный лист %s",
		sheetPublishedBody:  "Остановок: %d, дата %s. Откройте приложение, чтобы начать.",
		sheetChangedTitle:   "Маршрутный лист %s изменён",
		stopAddedBody:       "Добавлена остановка: заказ %s, %s.",
		stopRemovedBody:     "Снята остановка: заказ %s.",
		sheetChangedBody:    "Диспетчер изменил ваш маршрут. Откройте приложение.",
		messageTitle:        "Сообщение диспетчера",

		outTitle:        "Заказ %s в пути",
		outBody:         "Курьер приедет %s. Отследить: %s",
		arrivingTitle:   "Заказ %s: курьер скоро будет",
		arrivingBody:    "Курьер будет у вас примерно через %d мин (около %s). Отследить: %s",
		deliveredTitle:  "Заказ %s доставлен",
		deliveredBody:   "Спасибо! Заказ вручён.",
		failedTitle:     "Не удалось доставить заказ %s",
		failedBody:      "Причина: %s. Мы свяжемся с вами, чтобы договориться о новом времени доставки; до тех пор заказ хранится на нашем складе. Подробнее: %s",
		rescheduledBody: "Причина: %s. Как вы просили, привезём %s; время сообщим. Подробнее: %s",
		reasons: map[string]string{"no_answer": "никто не ответил", "refused": "от заказа отказались", "wrong_address": "неверный адрес",
			"damaged": "товар повреждён", "customer_absent": "никого не было на месте", "reschedule": "вы попросили другой день",
			"handed_back": "курьер не успел к вам сегодня"},
		windowBetween:   "с %s до %s",
		windowToday:     "сегодня %s",
		windowOn:        "%s %s",
		unknownWindow:   "сегодня",
		dateLayout:      "02.01",
		noReason:        "не указана",
		statusPageTitle: "Заказ %s",
	},
}

// text returns the templates of the configured language.
func (s *Service) text() texts {
	if t, ok := templates[s.cfg.Language]; ok {
		return t
	}
	return templates["ru"]
}

// clock formats t as HH:MM in the company time zone.
func (s *Service) clockTime(t time.Time) string { return t.In(s.cfg.Location).Format("15:04") }

// window says when the courier comes: "today between 10:00 and 13:00", or
// with the date when it is not today.
func (s *Service) window(from, to time.Time) string {
	tx := s.text()
	if from.IsZero() || to.IsZero() {
		return tx.unknownWindow
	}
	w := fmt.Sprintf(tx.windowBetween, s.clockTime(from), s.clockTime(to))
	day := from.In(s.cfg.Location)
	if day.Format(time.DateOnly) == s.clock.Now().In(s.cfg.Location).Format(time.DateOnly) {
		return fmt.Sprintf(tx.windowToday, w)
	}
	return fmt.Sprintf(tx.windowOn, day.Format(tx.dateLayout), w)
}
