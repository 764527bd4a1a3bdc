package leads

import (
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/mail"
	"github.com/gradpath/gradpath/internal/outbox"
)

func TestDigest(t *testing.T) {
	mail := func(lead, to, subject string) outbox.Job {
		return outbox.Job{Kind: outbox.Mail, LeadID: lead, Mail: &mail.Message{To: to, Subject: subject, Body: "About " + subject + ".\n— gradpath\n"}}
	}
	later := mail("l9", "priya@agency.in", "Reminder")
	later.At = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	in := []outbox.Job{
		mail("l1", "priya@agency.in", "New callback request: Riya"),
		mail("l2", "rahul@agency.in", "New callback request: Kabir"),
		mail("l3", "Priya@Agency.in", "New consultation request: Meera"),
		later,
		mail("l4", "priya@agency.in", "New callback request: Asha"),
	}
	out := Digest(in)
	if len(out) != 3 {
		t.Fatalf("%d jobs: %+v", len(out), out)
	}
	d := out[0].Mail
	if d.To != "priya@agency.in" || !strings.HasPrefix(d.Subject, "3 new messages: New callback request: Riya") || out[0].LeadID != "l1" {
		t.Errorf("digest %+v", d)
	}
	for _, part := range []string{"1. New callback request: Riya", "2. New consultation request: Meera", "3. New callback request: Asha", "About New consultation request: Meera."} {
		if !strings.Contains(d.Body, part) {
			t.Errorf("digest body lacks %q:\n%s", part, d.Body)
		}
	}
	if out[1].LeadID != "l2" || out[1].Mail.Subject != "New callback request: Kabir" || out[2].LeadID != "l9" || out[2].At.IsZero() {
		t.Errorf("the others changed: %+v %+v", out[1], out[2])
	}
	if in[0].Mail.Subject != "New callback request: Riya" {
		t.Error("Digest changed its input")
	}
	single := []outbox.Job{mail("l1", "a@x.in", "One"), mail("l2", "b@x.in", "Two")}
	if got := Digest(single); len(got) != 2 || got[0].Mail.Subject != "One" {
		t.Errorf("nobody gets two: %+v", got)
	}
}
