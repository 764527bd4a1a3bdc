package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// LoginResponse is the answer to a sign-in: the session is in the cookie; cookie-authenticated
// requests that change something send csrf_token back in the X-CSRF-Token header.
type LoginResponse struct {
	CSRFToken string        `json:"csrf_token"`
	ExpiresAt time.Time     `json:"expires_at"`
	User      accounts.User `json:"user"`
}

// LoginInput is what a sign-in sends.
type LoginInput struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// EmailInput asks for a password reset.
type EmailInput struct {
	Email string `json:"email"`
}

// ResetInput completes a password reset.
type ResetInput struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// PasswordInput changes the signed-in user's password.
type PasswordInput struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
	// KeepTokens keeps the personal access tokens; without it they are revoked with the other
	// sessions.
	KeepTokens bool `json:"keep_tokens,omitempty"`
}

// CreatedToken is a new access token: the only answer that shows its secret.
type CreatedToken struct {
	accounts.Token
	// Secret is the token to send as Authorization: Bearer; it is shown this once.
	Secret string `json:"token"`
}

// TokenList lists the signed-in user's tokens, without secrets.
type TokenList struct {
	Items []accounts.Token `json:"items"`
}

// UserList is a page of users.
type UserList struct {
	Items      []accounts.User `json:"items"`
	NextCursor *string         `json:"next_cursor"`
}

// AuditList is a page of audit events, newest first.
type AuditList struct {
	Items      []accounts.AuditEvent `json:"items"`
	NextCursor *string               `json:"next_cursor"`
}

func actor(r *http.Request) *gradpath.Actor { return gradpath.ActorFrom(r.Context()) }

func (s *Server) register(w http.ResponseWriter, r *http.Request) error {
	var in accounts.RegisterInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	reg, err := s.Accounts.Register(r.Context(), actor(r), in)
	if err != nil {
		return err
	}
	if reg.Pending {
		return writeJSON(w, r, http.StatusAccepted, Registration{Status: "check_email",
			Detail: "we have sent an email to this address: follow its link to finish signing up"})
	}
	w.Header().Set("Location", "/api/v1/me")
	return writeJSON(w, r, http.StatusCreated, Registration{Status: "created", User: &reg.User})
}

// Registration is the answer to a sign-up: created (with the account, when no mail server is
// configured) or check_email (the same for every address).
type Registration struct {
	Status string         `json:"status"`
	Detail string         `json:"detail,omitempty"`
	User   *accounts.User `json:"user,omitempty"`
}

// ConfirmInput confirms a sign-up.
type ConfirmInput struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

func (s *Server) confirmRegistration(w http.ResponseWriter, r *http.Request) error {
	var in ConfirmInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	done, err := s.Accounts.ConfirmRegistration(r.Context(), actor(r), in.Token, in.Password)
	if err != nil {
		return err
	}
	s.startSession(w, r, done.Session, done.Token)
	if done.Device != "" {
		c := s.Identity.Cookies()
		c.Set(w, r, c.Name("device"), done.Device, accounts.DeviceTTL)
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, LoginResponse{CSRFToken: done.Session.CSRFToken, ExpiresAt: done.Session.ExpiresAt, User: done.User})
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request, sess accounts.Session, token string) {
	// The cookie lives as long as the session can; the server ends it sooner when idle.
	c := s.Identity.Cookies()
	c.Set(w, r, c.SessionName(), token, sess.ExpiresAt.Sub(s.Now()))
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in LoginInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c := s.Identity.Cookies()
	device := ""
	if ck, err := r.Cookie(c.Name("device")); err == nil {
		device = ck.Value
	}
	in2, err := s.Accounts.SignIn(r.Context(), actor(r), accounts.Credentials{Email: in.Email, Password: in.Password, Device: device})
	if err != nil {
		return err
	}
	u, sess, token := in2.User, in2.Session, in2.Token
	s.startSession(w, r, sess, token)
	if in2.Device != "" {
		c.Set(w, r, c.Name("device"), in2.Device, accounts.DeviceTTL)
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, LoginResponse{CSRFToken: sess.CSRFToken, ExpiresAt: sess.ExpiresAt, User: u})
}

// session tells a browser signed in by cookie (by password or through its OpenID provider)
// its CSRF token and when the session ends.
func (s *Server) session(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	sess := sessionFrom(r.Context())
	if sess == nil {
		return gradpath.Errorf(gradpath.CodeNotFound, "this request has no session cookie: access tokens have no session")
	}
	u, err := s.Accounts.Me(r.Context(), actor(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, LoginResponse{CSRFToken: sess.CSRFToken, ExpiresAt: sess.ExpiresAt, User: u})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.Accounts.Logout(r.Context(), actor(r)); err != nil {
		return err
	}
	c := s.Identity.Cookies()
	c.Clear(w, r, c.SessionName())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) requestReset(w http.ResponseWriter, r *http.Request) error {
	var in EmailInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.Accounts.RequestReset(r.Context(), actor(r), in.Email); err != nil {
		return err
	}
	// The same answer whether or not the email has an account.
	return writeJSON(w, r, http.StatusAccepted, Status{Status: "if an account uses this email, a reset link is on its way"})
}

func (s *Server) confirmReset(w http.ResponseWriter, r *http.Request) error {
	var in ResetInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.Accounts.ConfirmReset(r.Context(), actor(r), in.Token, in.Password); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	var in PasswordInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.Accounts.ChangePassword(r.Context(), actor(r), in.CurrentPassword, in.NewPassword, in.KeepTokens); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getMe(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	u, err := s.Accounts.Me(r.Context(), actor(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	me := Me{User: u}
	if s.Workspace != nil {
		if token := s.Workspace.CalendarToken(u.ID, u.Epoch); token != "" {
			me.CalendarURL = edge.Origin(r, s.PublicURL) + "/api/v1/me/calendar.ics?token=" + token
		}
	}
	return writeJSON(w, r, http.StatusOK, me)
}

// Me is the signed-in user's account, with the address of their calendar.
type Me struct {
	accounts.User
	// CalendarURL is the secret address of the user's calendar of deadlines, steps and sessions.
	CalendarURL string `json:"calendar_url,omitempty"`
}

func (s *Server) patchMe(w http.ResponseWriter, r *http.Request) error {
	var in accounts.MeUpdate
	if err := decodeJSON(w, r, &in, "application/merge-patch+json"); err != nil {
		return err
	}
	u, err := s.Accounts.UpdateMe(r.Context(), actor(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, u)
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.Accounts.Tokens(r.Context(), actor(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, TokenList{Items: ts})
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	var in accounts.TokenInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	t, secret, err := s.Accounts.CreateToken(r.Context(), actor(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusCreated, CreatedToken{Token: t, Secret: secret})
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request) error {
	if err := s.Accounts.RevokeToken(r.Context(), actor(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	qp := newQuery(r, "q", "role", "limit", "cursor")
	q := accounts.UserQuery{Text: qp.one("q"), Role: gradpath.Role(qp.one("role")), Limit: qp.limit(50, 200), After: qp.one("cursor")}
	if err := qp.err(); err != nil {
		return err
	}
	us, err := s.Accounts.Users(r.Context(), actor(r), q)
	if err != nil {
		return err
	}
	out := UserList{Items: us}
	if len(us) == q.Limit {
		next := us[len(us)-1].ID
		out.NextCursor = &next
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.Accounts.User(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, u)
}

// NewUser is an account an admin creates.
type NewUser struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
	// Role is the account's role (student, counsellor, admin); Roles gives several.
	Role  gradpath.Role   `json:"role,omitempty"`
	Roles []gradpath.Role `json:"roles,omitempty"`
	// Counsellor assigns a student to a counsellor (their user id).
	Counsellor string `json:"counsellor,omitempty"`
	// Password is the first password; without one a strong password is made and answered once.
	Password string `json:"password,omitempty"`
}

// CreatedUser is the new account, with the password made for it when none was given: it is
// shown only in this answer.
type CreatedUser struct {
	accounts.User
	InitialPassword string `json:"initial_password,omitempty"`
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var in NewUser
	if err := decodeJSON(w, r, &in, "application/json"); err != nil {
		return err
	}
	roles := in.Roles
	if in.Role != "" {
		roles = append([]gradpath.Role{in.Role}, roles...)
	}
	out := CreatedUser{}
	password := in.Password
	if password == "" {
		password = accounts.GeneratePassword()
		out.InitialPassword = password
	}
	u, err := s.Accounts.CreateUser(r.Context(), actor(r), in.Email, in.Name, roles, password)
	if err != nil {
		return err
	}
	if in.Counsellor != "" {
		c := in.Counsellor
		if u, err = s.Accounts.UpdateUser(r.Context(), actor(r), u.ID, accounts.UserUpdate{Counsellor: &c}); err != nil {
			return err
		}
	}
	out.User = u
	w.Header().Set("Location", "/api/v1/users/"+u.ID)
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusCreated, out)
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request) error {
	var in accounts.UserUpdate
	if err := decodeJSON(w, r, &in, "application/merge-patch+json"); err != nil {
		return err
	}
	u, err := s.Accounts.UpdateUser(r.Context(), actor(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, u)
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) error {
	qp := newQuery(r, "actor", "subject", "action", "limit", "cursor")
	q := accounts.AuditQuery{ActorID: qp.one("actor"), SubjectID: qp.one("subject"), Action: qp.one("action"), Limit: qp.limit(100, 500)}
	if c := qp.one("cursor"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n <= 0 {
			qp.p.Add("cursor", "is not a cursor this server issued")
		}
		q.Before = n
	}
	if err := qp.err(); err != nil {
		return err
	}
	es, err := s.Accounts.AuditLog(r.Context(), actor(r), q)
	if err != nil {
		return err
	}
	out := AuditList{Items: es}
	if len(es) == q.Limit {
		next := strconv.FormatInt(es[len(es)-1].ID, 10)
		out.NextCursor = &next
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, out)
}
