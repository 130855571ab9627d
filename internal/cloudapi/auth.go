package cloudapi

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Token lives.
const (
	accessLife  = time.Hour
	refreshLife = 30 * 24 * time.Hour
)

// ReadUsers reads a users file: one "name:bcrypt-hash" a line (as
// htpasswd -B writes it); blank lines and lines starting with # are
// skipped.
func ReadUsers(name string) (map[string][]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	users, err := ParseUsers(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return users, nil
}

// ParseUsers parses the users file format of ReadUsers.
func ParseUsers(r io.Reader) (map[string][]byte, error) {
	users := map[string][]byte{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hash, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.Contains(name, "|") {
			return nil, fmt.Errorf("line %d: want name:bcrypt-hash (a name without |)", n)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("line %d: user %s: not a bcrypt hash: %v", n, name, err)
		}
		if _, dup := users[name]; dup {
			return nil, fmt.Errorf("line %d: user %s given twice", n, name)
		}
		users[name] = []byte(hash)
	}
	return users, sc.Err()
}

// usersSecret derives the token secret from the users and their hashes:
// every process given the same users file agrees on it, and it changes
// when a password does.
func usersSecret(users map[string][]byte) []byte {
	names := make([]string, 0, len(users))
	for n := range users {
		names = append(names, n)
	}
	slices.Sort(names)
	h := sha256.New()
	io.WriteString(h, "veil cloudapi v2 token secret\n")
	for _, n := range names {
		fmt.Fprintf(h, "%s:%s\n", n, users[n])
	}
	return h.Sum(nil)
}

// signToken returns a token of kind for user, valid until exp:
// base64url("kind|user|exp") "." base64url(HMAC-SHA256).
func signToken(secret []byte, kind, user string, exp time.Time) string {
	payload := kind + "|" + user + "|" + strconv.FormatInt(exp.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(payload))
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(mac.Sum(nil))
}

// checkToken returns the user of a valid, unexpired token of kind.
func checkToken(secret []byte, kind, token string) (string, bool) {
	p, s, ok := strings.Cut(token, ".")
	if !ok {
		return "", false
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p)
	sig, err2 := enc.DecodeString(s)
	if err1 != nil || err2 != nil {
		return "", false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(payload)
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return "", false
	}
	k, rest, _ := strings.Cut(string(payload), "|")
	i := strings.LastIndexByte(rest, '|')
	if k != kind || i < 0 {
		return "", false
	}
	exp, err := strconv.ParseInt(rest[i+1:], 10, 64)
	if err != nil || time.Now().Unix() >= exp {
		return "", false
	}
	return rest[:i], true
}

type ownerKey struct{}

// owner returns the user of the request, "" without users.
func owner(r *http.Request) string {
	s, _ := r.Context().Value(ownerKey{}).(string)
	return s
}

// bearer returns the token of an Authorization header: "Bearer TOKEN"
// or the raw token.
func bearer(h string) string {
	h = strings.TrimSpace(h)
	if scheme, tok, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(tok)
	}
	return h
}

// auth requires Config.Token or, with users, a signed-in user's access
// token on every route but POST /v2/signin; the user's name goes to the
// request's context (owner).
func (a *API) auth(next http.Handler) http.Handler {
	if a.cfg.Token == "" && len(a.cfg.Users) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/signin" {
			next.ServeHTTP(w, r)
			return
		}
		tok := bearer(r.Header.Get("Authorization"))
		if a.cfg.Token != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(a.cfg.Token)) == 1 {
			next.ServeHTTP(w, r)
			return
		}
		if len(a.cfg.Users) > 0 {
			if user, ok := checkToken(a.cfg.Secret, "access", tok); ok {
				if _, known := a.cfg.Users[user]; known {
					next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ownerKey{}, user)))
					return
				}
			}
		}
		writeError(w, http.StatusUnauthorized, "Unauthorized. Please send a valid token in the Authorization header.")
	})
}

// signinBody is the answer of POST /v2/signin.
type signinBody struct {
	AccessToken  string
	ExpiresIn    int
	TokenType    string
	RefreshToken string
	IdToken      string
}

// authError is the spec's error of a failed sign-in (AWS Cognito's).
type authError struct {
	Message    string  `json:"message"`
	Code       string  `json:"code"`
	Time       string  `json:"time"`
	RequestID  string  `json:"requestId"`
	StatusCode int     `json:"statusCode"`
	Retryable  bool    `json:"retryable"`
	RetryDelay float64 `json:"retryDelay"`
}

func writeAuthError(w http.ResponseWriter, code, msg string) {
	id := make([]byte, 16)
	rand.Read(id)
	h := hex.EncodeToString(id)
	n, _ := rand.Int(rand.Reader, big.NewInt(100_000_000))
	writeJSON(w, http.StatusBadRequest, authError{Message: msg, Code: code,
		Time:       time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		RequestID:  h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:],
		StatusCode: http.StatusBadRequest, RetryDelay: float64(n.Int64()) / 1e6})
}

// dummyHash is compared with the password of an unknown user, so that
// the answer takes as long as for a known one.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("veil"), bcrypt.DefaultCost)
	return h
})

// handleSignin is POST /v2/signin.
func (a *API) handleSignin(w http.ResponseWriter, r *http.Request) {
	if len(a.cfg.Users) == 0 {
		writeError(w, http.StatusNotFound, "Sign-in is not enabled on this server.")
		return
	}
	var req struct {
		Username *string `json:"username"`
		Password *string `json:"password"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		writeAuthError(w, "InvalidParameterException", "The body must be a JSON object with username and password.")
		return
	}
	if req.Username == nil || *req.Username == "" {
		writeAuthError(w, "InvalidParameterException", "Missing required parameter USERNAME")
		return
	}
	if req.Password == nil {
		writeAuthError(w, "InvalidParameterException", "Missing required parameter PASSWORD")
		return
	}
	hash, ok := a.cfg.Users[*req.Username]
	if !ok {
		hash = dummyHash()
	}
	if err := bcrypt.CompareHashAndPassword(hash, []byte(*req.Password)); err != nil || !ok {
		if err != nil && !errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			a.cfg.Logf("cloudapi: signin of %q: %v", *req.Username, err)
		}
		writeAuthError(w, "NotAuthorizedException", "Incorrect username or password.")
		return
	}
	now := time.Now()
	user := *req.Username
	writeJSON(w, http.StatusOK, signinBody{
		AccessToken:  signToken(a.cfg.Secret, "access", user, now.Add(accessLife)),
		ExpiresIn:    int(accessLife / time.Second),
		TokenType:    "Bearer",
		RefreshToken: signToken(a.cfg.Secret, "refresh", user, now.Add(refreshLife)),
		IdToken:      signToken(a.cfg.Secret, "id", user, now.Add(accessLife)),
	})
}
