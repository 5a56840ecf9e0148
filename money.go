package courier

import (
	"fmt"
	"strconv"
)

// Money is an amount in the minor units of its currency (kopecks, cents),
// never a float. Currency is an ISO 4217 alphabetic code.
type Money struct {
	Amount   int64
	Currency string
}

// currencies maps the ISO 4217 codes we accept to their number of minor-unit digits.
var currencies = map[string]int{
	"RUB": 2, "USD": 2, "EUR": 2, "GBP": 2, "KZT": 2, "BYN": 2, "UAH": 2, "UZS": 2,
	"AMD": 2, "GEL": 2, "AZN": 2, "KGS": 2, "TRY": 2, "PLN": 2, "CZK": 2, "CHF": 2,
	"SEK": 2, "NOK": 2, "DKK": 2, "CNY": 2, "INR": 2, "BRL": 2, "MXN": 2, "CAD": 2,
	"AUD": 2, "NZD": 2, "ZAR": 2, "AED": 2, "SAR": 2, "ILS": 2, "HUF": 2, "RON": 2,
	"BGN": 2, "RSD": 2, "THB": 2, "MYR": 2, "SGD": 2, "HKD": 2, "PHP": 2, "IDR": 2,
	"EGP": 2, "NGN": 2, "KES": 2, "ARS": 2, "CLP": 0, "COP": 2, "PEN": 2, "VND": 0,
	"JPY": 0, "KRW": 0, "ISK": 0, "KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}

// ValidCurrency reports whether code is an ISO 4217 currency we accept.
func ValidCurrency(code string) bool {
	_, ok := currencies[code]
	return ok
}

// MinorDigits returns the number of minor-unit digits of a currency (2 for RUB).
func MinorDigits(code string) int {
	if d, ok := currencies[code]; ok {
		return d
	}
	return 2
}

// MaxAmount bounds every amount we accept (10,000,000,000.00 in a currency of
// two minor digits): far above any parcel, far below where sums overflow.
const MaxAmount = int64(1_000_000_000_000)

// Validate checks that the amount is within [0, MaxAmount] and the currency is known.
// field names the money in error messages. Returns EINVALID.
func (m Money) Validate(field string) error {
	if !ValidCurrency(m.Currency) {
		return FieldError(field+".currency", "unknown currency %q (ISO 4217 code expected)", m.Currency)
	}
	if m.Amount < 0 {
		return FieldError(field+".amount", "must not be negative")
	}
	if m.Amount > MaxAmount {
		return FieldError(field+".amount", "must be at most %d (minor units)", MaxAmount)
	}
	return nil
}

// String formats the money in major units, e.g. "1250.50 RUB".
func (m Money) String() string {
	d := MinorDigits(m.Currency)
	if d == 0 {
		return strconv.FormatInt(m.Amount, 10) + " " + m.Currency
	}
	sign := ""
	a := m.Amount
	if a < 0 {
		sign, a = "-", -a
	}
	p := int64(1)
	for range d {
		p *= 10
	}
	return fmt.Sprintf("%s%d.%0*d %s", sign, a/p, d, a%p, m.Currency)
}
