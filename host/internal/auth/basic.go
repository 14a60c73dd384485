package auth

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// HTTPBasic checks HTTP Basic credentials against an Apache htpasswd file,
// as Ironic's http_basic strategy (oslo.middleware's basic_auth): bcrypt
// entries only ($2y$, $2a$, $2b$; `htpasswd -B` writes them).
//
// Each line is "user:hash". As Ironic, whose basic-auth users act as
// admins, a user gets the admin role; this project adds an optional third
// column, "user:hash:role1,role2", giving the user exactly those roles
// (e.g. "member" for a user who may read but not adopt), and an optional
// fourth, "user:hash:roles:project_id", tying the user to a project: it
// sees that project's servers, as a Keystone user of the project would.
// Without it a user has no project. Blank lines and lines starting with #
// are skipped. The file is read once, at start.
type HTTPBasic struct {
	users map[string]basicUser
	// dummy is compared for unknown users, so that refusing one costs
	// what a wrong password does: a bcrypt hash at the file's cost.
	dummy []byte
	// compare is bcrypt.CompareHashAndPassword; tests count its calls.
	compare func(hash, password []byte) error
}

type basicUser struct {
	hash      []byte
	roles     []string
	projectID string
}

// projectIDPattern is what a project id may be: the manage body's
// project_id pattern, so that any project a user is tied to can be
// adopted into.
var projectIDPattern = regexp.MustCompile(`^[0-9a-zA-Z_-]{1,64}$`)

// NewHTTPBasic reads the user file. A missing, unreadable or malformed
// file is an error naming the file and line.
func NewHTTPBasic(path string) (*HTTPBasic, error) {
	if path == "" {
		return nil, errors.New("auth_strategy is http_basic but http_basic_auth_user_file is not set")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("http_basic_auth_user_file: %w", err)
	}
	defer func() { _ = f.Close() }() // read-only
	b := &HTTPBasic{users: map[string]basicUser{}, compare: bcrypt.CompareHashAndPassword}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF") // a byte order mark an editor put there
		}
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, u, err := parseUserLine(line)
		if err != nil {
			return nil, fmt.Errorf("http_basic_auth_user_file %s line %d: %w", path, n, err)
		}
		if _, dup := b.users[name]; dup {
			return nil, fmt.Errorf("http_basic_auth_user_file %s line %d: user %q is listed twice", path, n, name)
		}
		b.users[name] = u
	}
	if err := sc.Err(); err != nil {
		// bufio.Scanner's "token too long" names no line: the next one.
		return nil, fmt.Errorf("http_basic_auth_user_file %s line %d: %w", path, n+1, err)
	}
	if len(b.users) == 0 {
		return nil, fmt.Errorf("http_basic_auth_user_file %s: no users", path)
	}
	if b.dummy, err = dummyHash(b.users); err != nil {
		return nil, fmt.Errorf("http_basic_auth_user_file %s: %w", path, err)
	}
	return b, nil
}

// dummyHash hashes a random password at the cost most users of the file
// have (the higher one on a tie). bcrypt's time is set by the cost alone,
// so with one cost in the file an unknown user is refused exactly as
// slowly as a known one with a wrong password: user names cannot be told
// by timing. With mixed costs, users at another cost than the most common
// one remain distinguishable (the README says so).
func dummyHash(users map[string]basicUser) ([]byte, error) {
	count := map[int]int{}
	cost := 0
	for _, u := range users {
		c, _ := bcrypt.Cost(u.hash) // checked by parseUserLine
		count[c]++
		if count[c] > count[cost] || (count[c] == count[cost] && c > cost) {
			cost = c
		}
	}
	secret := make([]byte, 18)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	return bcrypt.GenerateFromPassword(secret, cost)
}

func parseUserLine(line string) (string, basicUser, error) {
	fields := strings.Split(line, ":")
	if len(fields) < 2 || len(fields) > 4 {
		return "", basicUser{}, errors.New(`want "user:bcrypt-hash", "user:bcrypt-hash:role,role" or "user:bcrypt-hash:role,role:project_id"`)
	}
	name, hash := fields[0], fields[1]
	if name == "" {
		return "", basicUser{}, errors.New("empty user name")
	}
	if !printable(name) {
		// The name is the caller's user_id, stored with each action:
		// PostgreSQL refuses invalid UTF-8 and NUL, so every adoption
		// by this user would fail. Not quoted: it is not printable.
		return "", basicUser{}, errors.New("the user name is not printable UTF-8")
	}
	switch {
	case strings.HasPrefix(hash, "$2y$"), strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"):
	default:
		return "", basicUser{}, fmt.Errorf("only bcrypt digested passwords are supported for %s", name)
	}
	if _, err := bcrypt.Cost([]byte(hash)); err != nil {
		return "", basicUser{}, fmt.Errorf("bad bcrypt hash for %s: %w", name, err)
	}
	u := basicUser{hash: []byte(hash), roles: []string{"admin"}}
	if len(fields) >= 3 {
		u.roles = nil
		for r := range strings.SplitSeq(fields[2], ",") {
			if r = strings.TrimSpace(r); r != "" {
				if !printable(r) {
					return "", basicUser{}, fmt.Errorf("a role of %s is not printable UTF-8", name)
				}
				u.roles = append(u.roles, r)
			}
		}
		if len(u.roles) == 0 {
			return "", basicUser{}, fmt.Errorf("empty role list for %s", name)
		}
	}
	if len(fields) == 4 {
		u.projectID = strings.TrimSpace(fields[3])
		if !projectIDPattern.MatchString(u.projectID) {
			return "", basicUser{}, fmt.Errorf("project id of %s is not 1 to 64 letters, digits, - or _", name)
		}
	}
	return name, u, nil
}

// printable reports whether s is valid UTF-8 without control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

// Authenticate checks the Authorization: Basic header.
func (b *HTTPBasic) Authenticate(_ context.Context, r *http.Request) (Caller, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return Caller{}, fmt.Errorf("%w: no Authorization header", ErrUnauthenticated)
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "basic") {
		return Caller{}, fmt.Errorf("%w: Authorization is not Basic", ErrUnauthenticated)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil {
		return Caller{}, fmt.Errorf("%w: could not decode authorization token", ErrUnauthenticated)
	}
	name, password, ok := strings.Cut(string(raw), ":")
	if !ok {
		return Caller{}, fmt.Errorf("%w: could not decode authorization token", ErrUnauthenticated)
	}
	u, known := b.users[name]
	hash := u.hash
	if !known {
		hash = b.dummy
	}
	if err := b.compare(hash, []byte(password)); err != nil || !known {
		return Caller{}, fmt.Errorf("%w: wrong user name or password", ErrUnauthenticated)
	}
	return Caller{UserID: name, UserName: name, ProjectID: u.projectID, Roles: slices.Clone(u.roles)}, nil
}

// Challenge asks for Basic credentials.
func (b *HTTPBasic) Challenge() string { return `Basic realm="mogan"` }
