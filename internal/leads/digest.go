package leads

import (
	"fmt"
	"strings"

	"github.com/gradpath/gradpath/internal/outbox"
)

// Digest combines the messages that one batch of requests sends to the same person at the same
// time into one: a counsellor who is assigned five leads at once gets one email listing them,
// not five. Other jobs, and a person's only message, pass through unchanged and in order.
func Digest(jobs []outbox.Job) []outbox.Job {
	count := map[string]int{}
	for _, j := range jobs {
		if j.Kind == outbox.Mail && j.Mail != nil && j.At.IsZero() {
			count[strings.ToLower(j.Mail.To)]++
		}
	}
	if len(count) == len(jobs) {
		return jobs // nobody gets two
	}
	out := make([]outbox.Job, 0, len(count))
	grouped := map[string]int{} // recipient → index in out
	for _, j := range jobs {
		to := ""
		if j.Kind == outbox.Mail && j.Mail != nil && j.At.IsZero() {
			to = strings.ToLower(j.Mail.To)
		}
		if to == "" || count[to] == 1 {
			out = append(out, j)
			continue
		}
		i, seen := grouped[to]
		if !seen {
			grouped[to] = len(out)
			m := *j.Mail
			m.Subject = fmt.Sprintf("%d new messages: %s", count[to], j.Mail.Subject)
			m.Body = "1. " + j.Mail.Subject + "\n\n" + j.Mail.Body
			out = append(out, outbox.Job{Kind: outbox.Mail, LeadID: j.LeadID, Mail: &m})
			continue
		}
		n := strings.Count(out[i].Mail.Body, "\n\n———\n\n") + 2
		out[i].Mail.Body += fmt.Sprintf("\n\n———\n\n%d. %s\n\n%s", n, j.Mail.Subject, j.Mail.Body)
	}
	return out
}
