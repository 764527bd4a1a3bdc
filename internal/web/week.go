package web

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gradpath/gradpath/internal/calendar"
)

var weekdays = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

// weekValues writes a week's hours as the form shows them: "09:30-13:00, 14:00-18:30" by day,
// empty when closed.
func weekValues(w calendar.Week, into map[string]string) {
	var byDay map[string][]string
	raw, _ := json.Marshal(w)
	_ = json.Unmarshal(raw, &byDay)
	for _, d := range weekdays {
		into[d] = strings.Join(byDay[d], ", ")
	}
}

// readWeek reads the hours of the week from a form into values (as typed) and a Week; the
// message says how to write them when they cannot be read.
func readWeek(r *http.Request, values map[string]string) (calendar.Week, string) {
	byDay := map[string][]string{}
	for _, d := range weekdays {
		values[d] = strings.TrimSpace(r.PostFormValue(d))
		for _, span := range strings.FieldsFunc(values[d], func(r rune) bool { return r == ',' || r == ';' }) {
			if span = strings.ReplaceAll(strings.TrimSpace(span), " ", ""); span != "" {
				byDay[d] = append(byDay[d], span)
			}
		}
	}
	var w calendar.Week
	raw, _ := json.Marshal(byDay)
	if err := json.Unmarshal(raw, &w); err != nil {
		return w, "Write each day's hours like 09:30-13:00, 14:00-18:30 (24-hour clock), or leave the day empty when closed. " + strings.TrimPrefix(err.Error(), "json: ")
	}
	return w, ""
}
