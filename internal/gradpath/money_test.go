package gradpath

import "testing"

func TestMoneyString(t *testing.T) {
	tests := []struct {
		m    Money
		want string
	}{
		{Money{150000, "INR"}, "INR 1,500"},
		{Money{317404500, "INR"}, "INR 31,74,045"},
		{Money{450000000, "INR"}, "INR 45,00,000"},
		{Money{5, "INR"}, "INR 0.05"},
		{Money{-1999, "GBP"}, "GBP -19.99"},
		{Money{149950, "GBP"}, "GBP 1,499.50"},
		{Money{1200000, "JPY"}, "JPY 1,200,000"},
		{Money{1234, "KWD"}, "KWD 1.234"},
		{Money{10, "XXX"}, "XXX 10 (minor units)"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.m, got, tt.want)
		}
	}
	if got := (Money{317404567, "INR"}).Rounded().String(); got != "INR 31,74,046" {
		t.Errorf("rounded: %s", got)
	}
}

func TestMoneyValidate(t *testing.T) {
	if err := (Money{100, "AUD"}).Validate(); err != nil {
		t.Errorf("valid money rejected: %v", err)
	}
	err := (Money{-1, "rupees"}).Validate()
	fields := ErrorFields(err)
	if ErrorCode(err) != CodeInvalid || len(fields) != 2 {
		t.Fatalf("want 2 field problems, got %v", err)
	}
	if fields[0].Field != "currency" || fields[1].Field != "amount" {
		t.Errorf("fields = %+v", fields)
	}
}

func TestCountries(t *testing.T) {
	for _, c := range []string{"IN", "GB", "AU", "US", "XK"} {
		if !ValidCountry(c) {
			t.Errorf("%s should be a country", c)
		}
	}
	for _, c := range []string{"UK", "gb", "ZZ", ""} {
		if ValidCountry(c) {
			t.Errorf("%q should not be a country", c)
		}
	}
	if n, _ := CountryName("GB"); n != "United Kingdom" {
		t.Errorf("GB = %q", n)
	}
	if got := len(Countries()); got != 250 {
		t.Errorf("%d countries, want the 249 of ISO 3166-1 and XK", got)
	}
}

func TestProblemsMerge(t *testing.T) {
	var p Problems
	p.Merge("intakes[0].", Invalid("start", "is required"))
	p.Merge("tuition.", (Money{-1, "INR"}).Validate())
	p.Add("title", "is required")
	err := p.Err()
	got := ErrorFields(err)
	want := []string{"intakes[0].start", "tuition.amount", "title"}
	if len(got) != len(want) {
		t.Fatalf("fields = %+v", got)
	}
	for i := range want {
		if got[i].Field != want[i] {
			t.Errorf("field %d = %q, want %q", i, got[i].Field, want[i])
		}
	}
}

func TestParseMoney(t *testing.T) {
	tests := []struct {
		s, cur string
		want   int64
		err    bool
	}{
		{"30000", "GBP", 3000000, false},
		{"1499.5", "INR", 149950, false},
		{"1499.55", "INR", 149955, false},
		{"1499.555", "INR", 0, true},
		{"1200000", "JPY", 1200000, false},
		{"12.5", "JPY", 0, true},
		{"-5", "GBP", 0, true},
		{"1e6", "GBP", 0, true},
		{"", "GBP", 0, true},
		{"5.", "GBP", 0, true},
		{"100", "ABC", 0, true},
	}
	for _, tt := range tests {
		m, err := ParseMoney(tt.s, tt.cur)
		if (err != nil) != tt.err || (!tt.err && m.Amount != tt.want) {
			t.Errorf("ParseMoney(%q, %s) = %v, %v", tt.s, tt.cur, m, err)
		}
	}
}

func TestRatesConvert(t *testing.T) {
	r := Rates{Base: "INR", PerUnit: map[string]float64{"GBP": 110, "AUD": 55, "JPY": 0.55}}
	tests := []struct {
		m    Money
		to   string
		want int64
		ok   bool
	}{
		{Money{3000000, "GBP"}, "INR", 330000000, true}, // £30,000 → ₹33,00,000
		{Money{330000000, "INR"}, "GBP", 3000000, true}, // and back
		{Money{5000000, "AUD"}, "GBP", 2500000, true},   // A$50,000 → £25,000 through INR
		{Money{100000, "JPY"}, "INR", 5500000, true},    // ¥100,000 (no minor unit) → ₹55,000
		{Money{100, "USD"}, "INR", 0, false},            // no rate
		{Money{100, "USD"}, "USD", 100, true},           // no table needed
	}
	for _, tt := range tests {
		got, ok := r.Convert(tt.m, tt.to)
		if ok != tt.ok || got.Amount != tt.want {
			t.Errorf("Convert(%v, %s) = %v %v, want %d %v", tt.m, tt.to, got, ok, tt.want, tt.ok)
		}
	}
}
