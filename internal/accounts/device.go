package accounts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// DeviceTTL is how long a browser is remembered after it last signed in.
const DeviceTTL = 365 * 24 * time.Hour

// A device cookie (OWASP's "device cookies" against account lock-out) marks a browser that
// has signed in to an account: userID.issued.nonce.signature, signed with the server's key.
// A sign-in that carries a valid one for the account it names is limited by its own bucket,
// not the account's, so that failures from other addresses cannot lock the real person out.
func (s *Service) deviceToken(userID string) string {
	if len(s.cfg.DeviceKey) == 0 {
		return ""
	}
	body := userID + "." + strconv.FormatInt(s.cfg.Now().Unix(), 10) + "." + newSecret()[:16]
	return body + "." + s.deviceMAC(body)
}

func (s *Service) deviceMAC(body string) string {
	m := hmac.New(sha256.New, s.cfg.DeviceKey)
	m.Write([]byte("gradpath device\x00" + body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}

// device returns the user and the id of a valid device token.
func (s *Service) device(token string) (userID, id string, ok bool) {
	if len(s.cfg.DeviceKey) == 0 || token == "" || len(token) > 200 {
		return "", "", false
	}
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return "", "", false
	}
	body, mac := token[:i], token[i+1:]
	if !hmac.Equal([]byte(mac), []byte(s.deviceMAC(body))) {
		return "", "", false
	}
	parts := strings.Split(body, ".")
	if len(parts) != 3 {
		return "", "", false
	}
	issued, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || s.cfg.Now().Sub(time.Unix(issued, 0)) > DeviceTTL {
		return "", "", false
	}
	return parts[0], parts[2], true
}
