package gradpath

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in        string
		want      string
		monthOnly bool
		wantErr   bool
	}{
		{in: "2026-08-15", want: "2026-08-15"},
		{in: "2027-02", want: "2027-02", monthOnly: true},
		{in: "2027-2", wantErr: true},
		{in: "2027-13", wantErr: true},
		{in: "2026-02-30", wantErr: true},
		{in: "15/08/2026", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		d, err := ParseDate(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseDate(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if got := d.String(); got != tt.want {
			t.Errorf("ParseDate(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if d.MonthOnly() != tt.monthOnly {
			t.Errorf("ParseDate(%q).MonthOnly() = %v", tt.in, d.MonthOnly())
		}
	}
}

func TestDateBounds(t *testing.T) {
	feb, _ := ParseDate("2028-02")
	if got := feb.Earliest(); !got.Equal(time.Date(2028, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Earliest = %v", got)
	}
	if got := feb.Latest(); !got.Equal(time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Latest of a leap February = %v", got)
	}
	day, _ := ParseDate("2026-08-15")
	if !day.Earliest().Equal(day.Latest()) {
		t.Errorf("a full date has one day")
	}
	if feb.Compare(day) <= 0 || day.Compare(feb) >= 0 || day.Compare(day) != 0 {
		t.Errorf("Compare is not an order")
	}
}

func TestDateJSON(t *testing.T) {
	var v struct {
		D Date `json:"d"`
	}
	if err := json.Unmarshal([]byte(`{"d":"2027-03"}`), &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	if string(out) != `{"d":"2027-03"}` {
		t.Errorf("round trip = %s", out)
	}
	if err := json.Unmarshal([]byte(`{"d":"March 2027"}`), &v); err != nil || v.D.Err() == nil || v.D.IsZero() {
		t.Errorf("a date in words: %v, Err %v", err, v.D.Err())
	}
}
