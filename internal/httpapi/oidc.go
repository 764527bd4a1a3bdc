package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// OIDCConfig configures sign-in with an OpenID Connect provider.
type OIDCConfig struct {
	Issuer, ClientID, ClientSecret string
	// RedirectURL is exactly what the provider has registered: PUBLIC_URL/api/v1/auth/oidc/callback.
	RedirectURL string
	// Scopes are asked for besides openid, email and profile (some providers give groups only
	// for a scope of their own).
	Scopes []string
	// RoleClaim names the claim of the ID token or the userinfo answer whose values are the
	// person's groups: "groups", or a path into an object such as "realm_access.roles".
	RoleClaim string
}

// oidcClient talks to the provider: the authorization code flow with PKCE, state and nonce.
// The provider is discovered on first use, so that gradpath starts while it is down.
type oidcClient struct {
	cfg OIDCConfig

	mu       sync.Mutex
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    oauth2.Config
}

func (o *oidcClient) init(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, o.cfg.Issuer)
	if err != nil {
		return gradpath.Errorf(gradpath.CodeUnavailable, "the sign-in provider does not answer; try again, or sign in with your password")
	}
	o.provider = p
	o.verifier = p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID})
	o.oauth = oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: o.cfg.RedirectURL, Scopes: append([]string{oidc.ScopeOpenID, "email", "profile"}, o.cfg.Scopes...)}
	return nil
}

// pendingLogin is what the browser keeps between leaving for the provider and coming back.
type pendingLogin struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
}

func random() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) oidcLogin(w http.ResponseWriter, r *http.Request) error {
	if s.oidc == nil {
		return gradpath.Errorf(gradpath.CodeNotFound, "sign-in with an OpenID provider is not configured")
	}
	if err := s.oidc.init(r.Context()); err != nil {
		return err
	}
	p := pendingLogin{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier()}
	b, _ := json.Marshal(p)
	c := s.Identity.Cookies()
	c.Set(w, r, c.Name("oidc"), base64.RawURLEncoding.EncodeToString(b), 10*time.Minute)
	http.Redirect(w, r, s.oidc.oauth.AuthCodeURL(p.State, oidc.Nonce(p.Nonce), oauth2.S256ChallengeOption(p.Verifier)), http.StatusFound)
	return nil
}

func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) error {
	if s.oidc == nil {
		return gradpath.Errorf(gradpath.CodeNotFound, "sign-in with an OpenID provider is not configured")
	}
	if err := s.oidc.init(r.Context()); err != nil {
		return err
	}
	refused := func(why string) error {
		return gradpath.Errorf(gradpath.CodeUnauthorized, "sign-in with your provider failed: %s; start again", why)
	}
	cookies := s.Identity.Cookies()
	c, err := r.Cookie(cookies.Name("oidc"))
	if err != nil {
		return refused("this browser did not start the sign-in (or took more than 10 minutes)")
	}
	cookies.Clear(w, r, cookies.Name("oidc"))
	var p pendingLogin
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || json.Unmarshal(raw, &p) != nil || p.State == "" {
		return refused("the sign-in cookie is damaged")
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return refused(fmt.Sprintf("the provider answered %q", e))
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(p.State)) != 1 {
		return refused("the state does not match")
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	tok, err := s.oidc.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p.Verifier))
	if err != nil {
		return refused("the code was not accepted")
	}
	rawID, ok := tok.Extra("id_token").(string)
	if !ok {
		return refused("the provider sent no ID token")
	}
	idt, err := s.oidc.verifier.Verify(ctx, rawID)
	if err != nil {
		return refused("the ID token is not valid")
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(p.Nonce)) != 1 {
		return refused("the nonce does not match")
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
		Name          string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		return refused("the ID token's claims are unreadable")
	}
	var all map[string]any
	_ = idt.Claims(&all)
	groups, found := claimValues(all, s.oidc.cfg.RoleClaim)
	if claims.Email == "" || (s.oidc.cfg.RoleClaim != "" && !found) {
		// Some providers give the email, or the groups, only from the userinfo endpoint.
		info, err := s.oidc.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err == nil && info.Subject == idt.Subject {
			if claims.Email == "" {
				claims.Email, claims.EmailVerified = info.Email, info.EmailVerified
				_ = info.Claims(&claims)
			}
			if !found {
				all = nil
				_ = info.Claims(&all)
				groups, _ = claimValues(all, s.oidc.cfg.RoleClaim)
			}
		}
	}
	_, sess, token, err := s.Accounts.SignInExternal(r.Context(), actor(r), accounts.ExternalIdentity{
		Issuer: idt.Issuer, Subject: idt.Subject, Email: claims.Email, EmailVerified: claims.EmailVerified, Name: claims.Name, Groups: groups})
	if err != nil {
		return err
	}
	s.startSession(w, r, sess, token)
	http.Redirect(w, r, "/", http.StatusFound)
	return nil
}

// claimValues reads the strings at path (dot-separated) in claims: a list of strings, or one
// string (split at spaces and commas, as some providers send a list). found says whether the
// claim was there at all.
func claimValues(claims map[string]any, path string) (values []string, found bool) {
	if path == "" {
		return nil, false
	}
	var v any = claims
	for _, part := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[part]; !ok {
			return nil, false
		}
	}
	switch v := v.(type) {
	case string:
		return strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' }), true
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				values = append(values, s)
			}
		}
		return values, true
	}
	return nil, true
}
