package web

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/gradpath"
)

func (p *Pages) signInForm(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	if !localPath(next) {
		next = ""
	}
	p.render(w, r, http.StatusOK, "signin", "Sign in", map[string]any{"Values": map[string]string{"next": next}, "Errors": map[string]string{}, "OIDC": p.OIDC,
		"Reset": r.URL.Query().Get("reset") != ""})
}

func (p *Pages) signIn(w http.ResponseWriter, r *http.Request) {
	if !p.publicForm(w, r, 8<<10) {
		return
	}
	email := r.PostFormValue("email")
	actor := &gradpath.Actor{IP: clientIP(r), UserAgent: r.UserAgent()}
	u, sess, token, err := p.Accounts.Login(r.Context(), actor, email, r.PostFormValue("password"))
	if err != nil {
		p.render(w, r, http.StatusUnauthorized, "signin", "Sign in", map[string]any{"Values": map[string]string{"email": email, "next": r.PostFormValue("next")},
			"Errors": map[string]string{"form": gradpath.ErrorMessage(err)}, "OIDC": p.OIDC})
		return
	}
	p.setSession(w, token, sess)
	next := "/me/applications"
	if u.Has(gradpath.RoleCounsellor) || u.Has(gradpath.RoleAdmin) {
		next = "/queue"
	}
	if back := r.PostFormValue("next"); localPath(back) {
		next = back
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// toSignIn sends someone who is not signed in (or whose session ended) to sign in, and back
// here afterwards: to this page, or for a form, to the page that sent it.
func (p *Pages) toSignIn(w http.ResponseWriter, r *http.Request) {
	back := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		back = ""
		if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host {
			back = ref.RequestURI()
		}
	}
	to := "/sign-in"
	if localPath(back) {
		to += "?next=" + url.QueryEscape(back)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// localPath accepts only a path on this site as a place to go back to, never another site.
func localPath(s string) bool {
	return strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") && !strings.HasPrefix(s, "/\\") &&
		!strings.ContainsAny(s, "\r\n") && !strings.HasPrefix(s, "/sign-")
}

// sameOrigin refuses forms posted from another site.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// gate lets a request through when someone is signed in who may use the page, and answers it
// itself otherwise (a redirect to sign in, or a page saying whose page it is).
type gate func(w http.ResponseWriter, r *http.Request) (*gradpath.Actor, *accounts.Session, bool)

// form reads a form sent past a gate: at most max bytes (a multipart one keeps files beyond
// 1 MiB on disk until the caller removes them), from this site, with the session's CSRF
// token. It answers the request itself when it refuses one.
func (p *Pages) form(w http.ResponseWriter, r *http.Request, g gate, max int64) (*gradpath.Actor, bool) {
	a, s, ok := g(w, r)
	if !ok {
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, max)
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(1 << 20)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		p.fail(w, r, http.StatusRequestEntityTooLarge, "The form could not be read", fmt.Sprintf("It may be too large: at most %d MiB. Go back and try again.", max>>20))
		return nil, false
	}
	if !p.checkCSRF(r, s) {
		if r.MultipartForm != nil {
			r.MultipartForm.RemoveAll()
		}
		p.fail(w, r, http.StatusForbidden, "Refused", "The form had expired; reload the page and try again.")
		return nil, false
	}
	return a, true
}

// publicForm reads a form anyone may send (sign-in, sign-up, the public requests): at most
// max bytes, and only from this site. It answers the request itself when it refuses one.
func (p *Pages) publicForm(w http.ResponseWriter, r *http.Request, max int64) bool {
	if !sameOrigin(r) {
		p.fail(w, r, http.StatusForbidden, "Refused", "This form was sent from another site.")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, max)
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, http.StatusRequestEntityTooLarge, "The form could not be read", "It may be too large. Go back and try again.")
		return false
	}
	return true
}

// checkCSRF checks a signed-in form: the same origin and the session's token.
func (p *Pages) checkCSRF(r *http.Request, s *accounts.Session) bool {
	return sameOrigin(r) && s != nil && subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf_token")), []byte(s.CSRFToken)) == 1
}

func (p *Pages) signOut(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	u, s := p.who(r)
	if u != nil && p.checkCSRF(r, s) {
		_ = p.Accounts.Logout(r.Context(), &gradpath.Actor{UserID: u.ID, Roles: u.Roles, Via: "session", SessionID: s.Hash})
	}
	http.SetCookie(w, &http.Cookie{Name: p.CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: p.CookieSecure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/programmes", http.StatusSeeOther)
}

func (p *Pages) staff(w http.ResponseWriter, r *http.Request) (*gradpath.Actor, *accounts.Session, bool) {
	u, s := p.who(r)
	if u == nil {
		p.toSignIn(w, r)
		return nil, nil, false
	}
	if !u.Has(gradpath.RoleCounsellor) && !u.Has(gradpath.RoleAdmin) {
		p.fail(w, r, http.StatusForbidden, "For counsellors", "This page is for counsellors and admins.")
		return nil, nil, false
	}
	return &gradpath.Actor{UserID: u.ID, Roles: u.Roles, Via: "session", SessionID: s.Hash, IP: clientIP(r), UserAgent: r.UserAgent()}, s, true
}

func (p *Pages) signedIn(w http.ResponseWriter, r *http.Request) (*gradpath.Actor, *accounts.Session, bool) {
	u, s := p.who(r)
	if u == nil {
		p.toSignIn(w, r)
		return nil, nil, false
	}
	return &gradpath.Actor{UserID: u.ID, Roles: u.Roles, Via: "session", SessionID: s.Hash, IP: clientIP(r), UserAgent: r.UserAgent()}, s, true
}

func (p *Pages) signUpForm(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "signup", "Create an account", map[string]any{"Values": map[string]string{}, "Errors": map[string]string{}})
}

// signUp registers a student and signs them in.
func (p *Pages) signUp(w http.ResponseWriter, r *http.Request) {
	if !p.publicForm(w, r, 8<<10) {
		return
	}
	values := map[string]string{"name": strings.TrimSpace(r.PostFormValue("name")), "email": strings.TrimSpace(r.PostFormValue("email"))}
	password := r.PostFormValue("password")
	actor := &gradpath.Actor{IP: clientIP(r), UserAgent: r.UserAgent()}
	errs := map[string]string{}
	if password != r.PostFormValue("password2") {
		errs["password2"] = "The two passwords differ; type the same one twice."
	}
	if len(errs) == 0 {
		_, err := p.Accounts.Register(r.Context(), actor, accounts.RegisterInput{Email: values["email"], Name: values["name"], Password: password})
		if err == nil {
			_, sess, token, err := p.Accounts.Login(r.Context(), actor, values["email"], password)
			if err == nil {
				p.setSession(w, token, sess)
				http.Redirect(w, r, "/me/profile?welcome=1", http.StatusSeeOther)
			} else {
				// The account exists; signing in can still be refused (too many attempts from
				// this address): the sign-in page takes it from there.
				http.Redirect(w, r, "/sign-in?next="+url.QueryEscape("/me/profile?welcome=1"), http.StatusSeeOther)
			}
			return
		}
		errs = formErrors(err, same)
	}
	// The password is never sent back into the page.
	p.render(w, r, http.StatusUnprocessableEntity, "signup", "Create an account", map[string]any{"Values": values, "Errors": errs})
}

func (p *Pages) forgotForm(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "forgot", "Forgotten password", map[string]any{"Values": map[string]string{}, "Errors": map[string]string{}, "ByEmail": p.ResetByEmail})
}

// forgot asks for a reset link. The answer is the same whether an account has the address or
// not.
func (p *Pages) forgot(w http.ResponseWriter, r *http.Request) {
	if !p.publicForm(w, r, 4<<10) {
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	data := map[string]any{"Values": map[string]string{"email": email}, "Errors": map[string]string{}, "ByEmail": p.ResetByEmail}
	if email == "" {
		data["Errors"] = map[string]string{"email": "Write the email address you sign in with."}
		p.render(w, r, http.StatusUnprocessableEntity, "forgot", "Forgotten password", data)
		return
	}
	if err := p.Accounts.RequestReset(r.Context(), &gradpath.Actor{IP: clientIP(r), UserAgent: r.UserAgent()}, email); err != nil {
		data["Errors"] = map[string]string{"form": gradpath.ErrorMessage(err)}
		p.render(w, r, statusOf(err), "forgot", "Forgotten password", data)
		return
	}
	data["Sent"] = true
	p.render(w, r, http.StatusOK, "forgot", "Forgotten password", data)
}

func (p *Pages) resetForm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "private, no-store") // the page carries the reset token
	p.render(w, r, http.StatusOK, "reset", "Choose a new password", map[string]any{"Token": r.URL.Query().Get("token"), "Errors": map[string]string{}})
}

// reset sets the new password with the emailed token; every session of the account ends.
func (p *Pages) reset(w http.ResponseWriter, r *http.Request) {
	if !p.publicForm(w, r, 4<<10) {
		return
	}
	token, password := r.PostFormValue("token"), r.PostFormValue("password")
	errs := map[string]string{}
	if password != r.PostFormValue("password2") {
		errs["password2"] = "The two passwords differ; type the same one twice."
	} else if err := p.Accounts.ConfirmReset(r.Context(), &gradpath.Actor{IP: clientIP(r), UserAgent: r.UserAgent()}, token, password); err != nil {
		errs = formErrors(err, same)
	}
	if len(errs) > 0 {
		p.render(w, r, http.StatusUnprocessableEntity, "reset", "Choose a new password", map[string]any{"Token": token, "Errors": errs})
		return
	}
	http.Redirect(w, r, "/sign-in?reset=1", http.StatusSeeOther)
}

// account is the signed-in person's own account: who they are and a new password.
func (p *Pages) account(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := p.signedIn(w, r); !ok {
		return
	}
	p.renderAccount(w, r, http.StatusOK, map[string]string{})
}

func (p *Pages) renderAccount(w http.ResponseWriter, r *http.Request, status int, errs map[string]string) {
	u, _ := p.who(r)
	p.render(w, r, status, "account", "My account", map[string]any{"Me": u, "Errors": errs, "Changed": r.URL.Query().Get("changed") != ""})
}

// changePassword sets a new password after checking the current one; the person's other
// sessions end, this one stays.
func (p *Pages) changePassword(w http.ResponseWriter, r *http.Request) {
	a, ok := p.form(w, r, p.signedIn, 4<<10)
	if !ok {
		return
	}
	next := r.PostFormValue("new_password")
	if next != r.PostFormValue("new_password2") {
		p.renderAccount(w, r, http.StatusUnprocessableEntity, map[string]string{"new_password2": "The two passwords differ; type the same one twice."})
		return
	}
	if err := p.Accounts.ChangePassword(r.Context(), a, r.PostFormValue("current_password"), next); err != nil {
		p.renderAccount(w, r, statusOf(err), formErrors(err, same))
		return
	}
	http.Redirect(w, r, "/account?changed=1", http.StatusSeeOther)
}

func (p *Pages) setSession(w http.ResponseWriter, token string, sess accounts.Session) {
	http.SetCookie(w, &http.Cookie{Name: p.CookieName, Value: token, Path: "/", MaxAge: int(sess.ExpiresAt.Sub(p.Now()).Seconds()),
		HttpOnly: true, Secure: p.CookieSecure, SameSite: http.SameSiteLaxMode})
}
