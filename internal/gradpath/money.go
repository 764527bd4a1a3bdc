package gradpath

import (
	"fmt"
	"strconv"
	"strings"
)

// currencyTable lists the active ISO 4217 currency codes with the number of digits of their
// minor unit (INR 2: paise; JPY 0; KWD 3).
const currencyTable = `AED 2 AFN 2 ALL 2 AMD 2 ANG 2 AOA 2 ARS 2 AUD 2 AWG 2 AZN 2 BAM 2 BBD 2 BDT 2 BGN 2
BHD 3 BIF 0 BMD 2 BND 2 BOB 2 BRL 2 BSD 2 BTN 2 BWP 2 BYN 2 BZD 2 CAD 2 CDF 2 CHF 2 CLP 0
CNY 2 COP 2 CRC 2 CUP 2 CVE 2 CZK 2 DJF 0 DKK 2 DOP 2 DZD 2 EGP 2 ERN 2 ETB 2 EUR 2 FJD 2
FKP 2 GBP 2 GEL 2 GHS 2 GIP 2 GMD 2 GNF 0 GTQ 2 GYD 2 HKD 2 HNL 2 HTG 2 HUF 2 IDR 2 ILS 2
INR 2 IQD 3 IRR 2 ISK 0 JMD 2 JOD 3 JPY 0 KES 2 KGS 2 KHR 2 KMF 0 KPW 2 KRW 0 KWD 3 KYD 2
KZT 2 LAK 2 LBP 2 LKR 2 LRD 2 LSL 2 LYD 3 MAD 2 MDL 2 MGA 2 MKD 2 MMK 2 MNT 2 MOP 2 MRU 2
MUR 2 MVR 2 MWK 2 MXN 2 MYR 2 MZN 2 NAD 2 NGN 2 NIO 2 NOK 2 NPR 2 NZD 2 OMR 3 PAB 2 PEN 2
PGK 2 PHP 2 PKR 2 PLN 2 PYG 0 QAR 2 RON 2 RSD 2 RUB 2 RWF 0 SAR 2 SBD 2 SCR 2 SDG 2 SEK 2
SGD 2 SHP 2 SLE 2 SOS 2 SRD 2 SSP 2 STN 2 SVC 2 SYP 2 SZL 2 THB 2 TJS 2 TMT 2 TND 3 TOP 2
TRY 2 TTD 2 TWD 2 TZS 2 UAH 2 UGX 0 USD 2 UYU 2 UZS 2 VES 2 VND 0 VUV 0 WST 2 XAF 0 XCD 2
XOF 0 XPF 0 YER 2 ZAR 2 ZMW 2 ZWG 2`

var currencies = func() map[string]int {
	f := strings.Fields(currencyTable)
	m := make(map[string]int, len(f)/2)
	for i := 0; i+1 < len(f); i += 2 {
		d, err := strconv.Atoi(f[i+1])
		if err != nil {
			panic("gradpath: bad currency table entry " + f[i])
		}
		m[f[i]] = d
	}
	return m
}()

// MinorDigits returns the number of minor-unit digits of an ISO 4217 currency and whether the
// code is known.
func MinorDigits(currency string) (int, bool) {
	d, ok := currencies[currency]
	return d, ok
}

// ValidCurrency reports whether code is a known ISO 4217 code in upper case.
func ValidCurrency(code string) bool {
	_, ok := currencies[code]
	return ok
}

// Money is an amount in integer minor units of an ISO 4217 currency: 150000 INR is ₹1,500.00.
// Amounts are never floats, so sums and comparisons are exact.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Validate reports a problem with the currency code or a negative amount.
func (m Money) Validate() error {
	var p Problems
	if !ValidCurrency(m.Currency) {
		p.Add("currency", "%q is not an ISO 4217 currency code (for example INR, GBP, AUD, USD)", m.Currency)
	}
	if m.Amount < 0 {
		p.Add("amount", "must not be negative")
	}
	return p.Err()
}

// String writes an amount for people, one way everywhere: digits grouped (in lakhs and crores
// for INR: INR 31,74,045), and the minor units only when there are some (GBP 1,499.50).
func (m Money) String() string {
	digits, ok := MinorDigits(m.Currency)
	if !ok {
		return fmt.Sprintf("%s %d (minor units)", m.Currency, m.Amount)
	}
	sign := ""
	a := m.Amount
	if a < 0 {
		sign, a = "-", -a
	}
	pow := int64(1)
	for range digits {
		pow *= 10
	}
	out := m.Currency + " " + sign + GroupDigits(a/pow, m.Currency == "INR")
	if frac := a % pow; frac != 0 {
		out += fmt.Sprintf(".%0*d", digits, frac)
	}
	return out
}

// Major writes the amount in major units for machines and files, without grouping:
// "30000.00" for GBP 30,000, "1200000" for JPY.
func (m Money) Major() string {
	digits, _ := MinorDigits(m.Currency)
	sign, a := "", m.Amount
	if a < 0 {
		sign, a = "-", -a
	}
	pow := int64(1)
	for range digits {
		pow *= 10
	}
	if digits == 0 {
		return sign + strconv.FormatInt(a, 10)
	}
	return fmt.Sprintf("%s%d.%0*d", sign, a/pow, digits, a%pow)
}

// Rounded is m rounded to whole major units, for estimates: a converted cost is not known to
// the paisa.
func (m Money) Rounded() Money {
	digits, ok := MinorDigits(m.Currency)
	if !ok || digits == 0 {
		return m
	}
	pow := int64(1)
	for range digits {
		pow *= 10
	}
	a := m.Amount
	if a < 0 {
		a = -((-a + pow/2) / pow * pow)
	} else {
		a = (a + pow/2) / pow * pow
	}
	return Money{Amount: a, Currency: m.Currency}
}

// GroupDigits writes 12500000 as 1,25,00,000 when indian (lakhs and crores) and as 12,500,000
// otherwise.
func GroupDigits(v int64, indian bool) string {
	s := strconv.FormatInt(v, 10)
	if len(s) <= 3 {
		return s
	}
	head, tail := s[:len(s)-3], s[len(s)-3:]
	step := 3
	if indian {
		step = 2
	}
	var parts []string
	for len(head) > step {
		parts = append([]string{head[len(head)-step:]}, parts...)
		head = head[:len(head)-step]
	}
	parts = append([]string{head}, parts...)
	return strings.Join(parts, ",") + "," + tail
}

// ParseMoney reads an amount written in major units ("30000", "1499.50") in currency.
func ParseMoney(s, currency string) (Money, error) {
	digits, ok := MinorDigits(currency)
	if !ok {
		return Money{}, fmt.Errorf("%q is not an ISO 4217 currency code", currency)
	}
	whole, frac, hasFrac := strings.Cut(strings.TrimSpace(s), ".")
	if whole == "" || len(whole) > 15 || (hasFrac && (frac == "" || len(frac) > digits)) {
		return Money{}, fmt.Errorf("%q is not an amount of %s with at most %d decimal places", s, currency, digits)
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return Money{}, fmt.Errorf("%q is not an amount of %s with at most %d decimal places", s, currency, digits)
		}
	}
	n, _ := strconv.ParseInt(whole, 10, 64)
	for range digits {
		n *= 10
	}
	if hasFrac {
		f, _ := strconv.ParseInt(frac+strings.Repeat("0", digits-len(frac)), 10, 64)
		n += f
	}
	return Money{Amount: n, Currency: currency}, nil
}

// Rates is a dated exchange-rate table: each rate is how many units of Base one unit of the
// currency buys. gradpath never fetches rates: an admin maintains the table and every
// conversion shows its date.
type Rates struct {
	Base    string             `json:"base"`
	Date    Date               `json:"date,omitzero"`
	Source  string             `json:"source,omitempty"`
	PerUnit map[string]float64 `json:"rates"`
}

// Rate returns how many units of Base one unit of currency buys, and whether it is known.
func (r Rates) Rate(currency string) (float64, bool) {
	if currency == r.Base && r.Base != "" {
		return 1, true
	}
	v, ok := r.PerUnit[currency]
	return v, ok && v > 0
}

// Convert converts m into currency to, rounding to its minor unit; false when a rate is
// missing. Converting into the same currency needs no table.
func (r Rates) Convert(m Money, to string) (Money, bool) {
	if m.Currency == to {
		return m, true
	}
	from, ok1 := r.Rate(m.Currency)
	into, ok2 := r.Rate(to)
	fd, ok3 := MinorDigits(m.Currency)
	td, ok4 := MinorDigits(to)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return Money{}, false
	}
	major := float64(m.Amount) / pow10(fd) * from / into
	return Money{Amount: int64(major*pow10(td) + 0.5), Currency: to}, true
}

func pow10(n int) float64 {
	p := 1.0
	for range n {
		p *= 10
	}
	return p
}

// Validate reports problems with the table.
func (r Rates) Validate() error {
	var p Problems
	if !ValidCurrency(r.Base) {
		p.Add("base", "%q is not an ISO 4217 currency code", r.Base)
	}
	if r.Date.IsZero() || r.Date.Err() != nil || r.Date.MonthOnly() {
		p.Add("date", "is required: the day the rates were taken, YYYY-MM-DD")
	}
	for c, v := range r.PerUnit {
		if !ValidCurrency(c) {
			p.Add("rates."+c, "%q is not an ISO 4217 currency code", c)
		} else if !(v > 0) || v > 1e9 {
			p.Add("rates."+c, "must be a positive number of %s per %s", r.Base, c)
		}
	}
	return p.Err()
}
