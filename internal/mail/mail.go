// Package mail sends email through an SMTP server.
package mail

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"strings"
	"time"
)

// Message is one email.
type Message struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
	// Attachments go with the text, such as a calendar invitation.
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment is a file sent with a message. A text/calendar one (an invitation, with its
// method: text/calendar; method=REQUEST) is also offered as an alternative of the text, so that
// mail programs show it as an invitation to accept.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"`
}

// Sender sends messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SMTP sends through an SMTP server (submission with STARTTLS when the server offers it,
// PLAIN authentication when a username is set).
type SMTP struct {
	// Addr is host:port.
	Addr     string
	From     string
	Username string
	Password string
	// Timeout bounds one delivery.
	Timeout time.Duration
}

// Send implements Sender.
func (s SMTP) Send(ctx context.Context, m Message) error {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("smtp %s: starttls: %w", s.Addr, err)
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fmt.Errorf("smtp %s: authentication: %w", s.Addr, err)
		}
	}
	if err := c.Mail(s.From); err != nil {
		return fmt.Errorf("smtp %s: MAIL FROM: %w", s.Addr, err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("smtp %s: RCPT TO: %w", s.Addr, err)
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(Compose(s.From, m, time.Now())); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	return c.Quit()
}

// Compose writes m as an RFC 5322 message in UTF-8: plain text, or with attachments a
// multipart/mixed message whose first part is the text (and, for an invitation, a
// multipart/alternative of the text and the calendar).
func Compose(from string, m Message, now time.Time) []byte {
	var b strings.Builder
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from)
	header("To", m.To)
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("MIME-Version", "1.0")
	if len(m.Attachments) == 0 {
		header("Content-Type", `text/plain; charset="utf-8"`)
		header("Content-Transfer-Encoding", "8bit")
		b.WriteString("\r\n")
		b.WriteString(lines(m.Body))
		return []byte(b.String())
	}
	mixed := boundary("mixed", now)
	header("Content-Type", `multipart/mixed; boundary="`+mixed+`"`)
	b.WriteString("\r\n")
	text := "Content-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + lines(m.Body)
	var invite *Attachment
	for i := range m.Attachments {
		if strings.HasPrefix(m.Attachments[i].ContentType, "text/calendar") {
			invite = &m.Attachments[i]
			break
		}
	}
	b.WriteString("--" + mixed + "\r\n")
	if invite != nil {
		alt := boundary("alt", now)
		b.WriteString(`Content-Type: multipart/alternative; boundary="` + alt + "\"\r\n\r\n")
		b.WriteString("--" + alt + "\r\n" + text)
		b.WriteString("--" + alt + "\r\n")
		b.WriteString("Content-Type: " + invite.ContentType + "; charset=\"utf-8\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		b.WriteString(base64Lines(invite.Data))
		b.WriteString("--" + alt + "--\r\n")
	} else {
		b.WriteString(text)
	}
	for _, a := range m.Attachments {
		b.WriteString("--" + mixed + "\r\n")
		b.WriteString("Content-Type: " + a.ContentType + "; name=\"" + a.Name + "\"\r\n")
		b.WriteString("Content-Disposition: attachment; filename=\"" + a.Name + "\"\r\n")
		b.WriteString("Content-Transfer-Encoding: base64\r\n\r\n")
		b.WriteString(base64Lines(a.Data))
	}
	b.WriteString("--" + mixed + "--\r\n")
	return []byte(b.String())
}

// lines is text with CRLF line ends, dot-stuffed for SMTP.
func lines(text string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if strings.HasPrefix(line, ".") {
			line = "." + line
		}
		b.WriteString(line)
		b.WriteString("\r\n")
	}
	return b.String()
}

// base64Lines is data in base64, in lines of 76 characters.
func base64Lines(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.String()
}

// boundary is a MIME boundary no text of ours contains.
func boundary(kind string, now time.Time) string {
	return fmt.Sprintf("gradpath-%s-%d", kind, now.UnixNano())
}
