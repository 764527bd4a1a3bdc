package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// Status is the answer of the health endpoints.
type Status struct {
	Status  string `json:"status"`
	Version string `json:"version,omitempty"`
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, Status{Status: "ok", Version: s.Version})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Ready(ctx); err != nil {
		s.logger.WarnContext(r.Context(), "not ready", "error", err.Error())
		// The app's own reasons (a full disk, the index being built) are told as they are.
		var own *gradpath.Error
		if errors.As(err, &own) && (own.Code == gradpath.CodeInsufficientStorage || own.Code == gradpath.CodeUnavailable) {
			return err
		}
		return gradpath.Errorf(gradpath.CodeUnavailable, "the database does not answer")
	}
	return writeJSON(w, r, http.StatusOK, Status{Status: "ready", Version: s.Version})
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(s.openapi)
	return nil
}

// ProblemType describes one problem type; it is what a problem's type URI resolves to.
type ProblemType struct {
	Type   string        `json:"type"`
	Code   gradpath.Code `json:"code"`
	Title  string        `json:"title"`
	Status int           `json:"status"`
}

func (s *Server) problemType(w http.ResponseWriter, r *http.Request) error {
	code := gradpath.Code(r.PathValue("code"))
	title := edge.Title(code)
	if title == "" {
		return gradpath.Errorf(gradpath.CodeNotFound, "there is no problem type %q", code)
	}
	return writeJSON(w, r, http.StatusOK, ProblemType{Type: edge.ProblemType(code), Code: code, Title: title, Status: edge.Status(code)})
}

const indexPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gradpath</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>gradpath</h1>
<p>Programmes, eligibility and applications for study-abroad and career counselling.</p>
<ul>
<li><a href="/api/v1/programmes">Programmes</a> (<a href="/api/v1/programmes?country=AU">in Australia</a>, <a href="/api/v1/programmes?country=GB">in the United Kingdom</a>)</li>
<li><a href="/api/v1/universities?country=IN">Universities in India</a></li>
<li><a href="/api/v1/openapi.json">The API, described in OpenAPI 3.1</a></li>
</ul>
</body></html>
`

func (s *Server) index(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(indexPage))
	return nil
}
