package leads

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// Notice is one version of the privacy notice: the words a person was shown when they gave
// consent. Versions are never changed or deleted; a new one is published instead, and every
// consent record names the version it was given under.
type Notice struct {
	// Version names the text: the day it was published (a second one that day gets "-2").
	Version     string    `json:"version"`
	Title       string    `json:"title"`
	Body        string    `json:"body"`
	PublishedAt time.Time `json:"published_at"`
	// PublishedBy is the admin who published it (empty for the built-in first version).
	PublishedBy string `json:"published_by,omitempty"`
}

// DefaultNotice is the notice in force until an admin publishes one of the agency's own.
var DefaultNotice = Notice{Version: "2026-11-01", Title: "How we use your details",
	PublishedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Body: `We are a study-abroad and career counselling agency. This notice says what we do with the details you give us on our forms, and what you can ask of us.

What we keep. Your name, phone number and email; what you asked about (a course, a country, a session); the date of birth or age you gave; for a person under 18, their parent's or guardian's name and email; when and from which address you sent the form.

Why. To answer your request: a counsellor calls or writes to you, usually within one business day, and you can book sessions with them. Only if you ticked the box for it, to send you updates about programmes and deadlines.

Under 18. We keep a minor's request only with a parent's or guardian's consent. We email the guardian a link; until they confirm, we send the minor nothing but the answer to their request.

Who sees it. Our counsellors and administrators, and the services that carry our email. We do not sell your details or share them for anyone else's marketing.

How long. While we are helping you, and for two years after our last contact, unless the law makes us keep something longer.

Your rights. You may withdraw consent at any time (the link in every email, or ask your counsellor), see a copy of everything we hold about you, have it corrected, or have it erased. Erasure removes your details from every request, booking, calendar and message we keep.

Questions or complaints go to our grievance officer at the address on our contact page.`}

// maxNoticeBody bounds a notice's text.
const maxNoticeBody = 64 << 10

// CurrentNotice returns the notice in force: the latest published, or the built-in one.
func (s *Service) CurrentNotice(ctx context.Context) (Notice, error) {
	ns, err := s.store.Notices(ctx, 1)
	if err != nil || len(ns) == 0 {
		return DefaultNotice, err
	}
	return ns[0], nil
}

// Notice returns one version of the notice; not_found when no such version was published.
func (s *Service) Notice(ctx context.Context, version string) (Notice, error) {
	if version == DefaultNotice.Version {
		if n, err := s.store.Notice(ctx, version); err == nil || gradpath.ErrorCode(err) != gradpath.CodeNotFound {
			return n, err
		}
		return DefaultNotice, nil
	}
	return s.store.Notice(ctx, version)
}

// Notices lists every version of the notice, newest first; the built-in one is last.
func (s *Service) Notices(ctx context.Context) ([]Notice, error) {
	ns, err := s.store.Notices(ctx, 0)
	if err != nil {
		return nil, err
	}
	for _, n := range ns {
		if n.Version == DefaultNotice.Version {
			return ns, nil
		}
	}
	return append(ns, DefaultNotice), nil
}

// PublishNotice publishes a new version of the notice (admins only). It is in force for every
// form from then on; consent already given stays recorded under the version it was given with.
func (s *Service) PublishNotice(ctx context.Context, a *gradpath.Actor, title, body string) (Notice, error) {
	if err := adminOnly(a); err != nil {
		return Notice{}, err
	}
	var p gradpath.Problems
	title = checkText(&p, "title", title, 200, true)
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	switch {
	case body == "":
		p.Add("body", "is required: the words people are shown")
	case len(body) > maxNoticeBody:
		p.Add("body", "is too long: at most %d KiB", maxNoticeBody>>10)
	case strings.ContainsRune(body, 0):
		p.Add("body", "holds a NUL character")
	}
	if err := p.Err(); err != nil {
		return Notice{}, err
	}
	now := s.now()
	cal := s.Calendar()
	day := now.In(cal.Location()).Format(time.DateOnly)
	var out Notice
	err := s.store.Write(ctx, func(tx Tx) error {
		for i := 1; ; i++ {
			n := Notice{Version: day, Title: title, Body: body, PublishedAt: now, PublishedBy: a.UserID}
			if i > 1 {
				n.Version += "-" + strconv.Itoa(i)
			}
			if n.Version == DefaultNotice.Version && i == 1 {
				continue // the built-in text keeps its name
			}
			ok, err := tx.InsertNotice(ctx, n)
			if err != nil {
				return err
			}
			if ok {
				out = n
				return nil
			}
		}
	})
	if err == nil {
		s.audit(ctx, a, "privacy_notice.published", out.Version, map[string]any{"title": out.Title})
	}
	return out, err
}
