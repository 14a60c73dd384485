package auth

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/singleflight"

	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

// maxTokenLen bounds X-Auth-Token; fernet tokens are about 200 bytes.
const maxTokenLen = 8 << 10

// negativeTTL bounds how long a token Keystone refused stays refused
// without asking again.
const negativeTTL = 30 * time.Second

// Keystone validates X-Auth-Token against Keystone v3 (gophercloud's
// identity v3 tokens.Get: GET /v3/auth/tokens with X-Subject-Token),
// authenticated with the host's own service token, obtained from
// [keystone_authtoken]'s password credentials (tokens.Create) and renewed
// before it expires or when Keystone answers 401. It is also the
// Directory of projects and users.
type Keystone struct {
	cfg       KeystoneConfig
	v3        string // identity endpoint, ending in /v3
	challenge string
	provider  *gophercloud.ProviderClient // no token of its own: see identity
	log       hclog.Logger
	cache     *tokenCache // nil when disabled
	inflight  singleflight.Group
	svc       serviceToken
}

var _ Directory = (*Keystone)(nil)

func newKeystone(_ context.Context, cfg KeystoneConfig, logger hclog.Logger) (*Keystone, error) {
	if cfg.AuthType != "" && cfg.AuthType != "password" {
		return nil, fmt.Errorf("[keystone_authtoken] auth_type %q is not supported (only password)", cfg.AuthType)
	}
	v3, err := identityV3(cfg.AuthURL)
	if err != nil {
		return nil, err
	}
	if cfg.Username == "" || cfg.Password == "" || cfg.ProjectName == "" {
		return nil, errors.New("[keystone_authtoken] username, password and project_name are required")
	}
	if err := oneDomain(&cfg.UserDomainName, cfg.UserDomainID, "user"); err != nil {
		return nil, err
	}
	if err := oneDomain(&cfg.ProjectDomainName, cfg.ProjectDomainID, "project"); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	transport, err := keystoneTransport(cfg)
	if err != nil {
		return nil, err
	}
	uri := cfg.WWWAuthenticateURI
	if uri == "" {
		uri = cfg.AuthURL
	}
	k := &Keystone{
		cfg: cfg,
		v3:  v3,
		// Sent to anonymous callers: never with the URL's userinfo.
		challenge: fmt.Sprintf("Keystone uri=%q", osclient.Redact(uri)),
		// Traced: the caller's request id goes to Keystone, each call
		// is logged with Keystone's own and counted.
		provider: &gophercloud.ProviderClient{HTTPClient: http.Client{
			Transport: osclient.Traced(transport, "keystone", "", logger, cfg.Observe), Timeout: cfg.Timeout,
		}},
		log: logger,
	}
	k.provider.UseTokenLock()
	if cfg.CacheTTL > 0 {
		k.cache = newTokenCache(cfg.CacheSize)
	}
	return k, nil
}

// oneDomain checks that at most one of a domain's name and id is set, and
// names the Default domain when neither is, as keystonemiddleware's
// deployments do.
func oneDomain(name *string, id, whose string) error {
	switch {
	case *name != "" && id != "":
		return fmt.Errorf("[keystone_authtoken] %[1]s_domain_name and %[1]s_domain_id are both set: set one of them", whose)
	case *name == "" && id == "":
		*name = "Default"
	}
	return nil
}

// identityV3 turns auth_url (with or without /v3) into the v3 endpoint.
func identityV3(authURL string) (string, error) {
	if authURL == "" {
		return "", errors.New("[keystone_authtoken] auth_url is required")
	}
	u, err := url.Parse(authURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("[keystone_authtoken] auth_url %q is not an http(s) URL", osclient.Redact(authURL))
	}
	s := strings.TrimRight(authURL, "/")
	switch {
	case strings.HasSuffix(s, "/v3"):
		return s, nil
	case strings.HasSuffix(s, "/v2.0"):
		return "", fmt.Errorf("[keystone_authtoken] auth_url %q: Identity v2.0 is not supported, use v3", osclient.Redact(authURL))
	}
	return s + "/v3", nil
}

func keystoneTransport(cfg KeystoneConfig) (http.RoundTripper, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.CAFile == "" && !cfg.Insecure {
		return t, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("[keystone_authtoken] cafile: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("[keystone_authtoken] cafile %s: no PEM certificates", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	// insecure = true is the operator's explicit choice, as in keystonemiddleware.
	tc.InsecureSkipVerify = cfg.Insecure
	t.TLSClientConfig = tc
	return t, nil
}

// Challenge is keystonemiddleware's: where to get a token.
func (k *Keystone) Challenge() string { return k.challenge }

// Authenticate validates the request's X-Auth-Token, from the cache when
// it was validated less than CacheTTL ago (and has not expired since).
// Concurrent requests with one token share one call to Keystone.
func (k *Keystone) Authenticate(ctx context.Context, r *http.Request) (Caller, error) {
	token := r.Header.Get("X-Auth-Token")
	switch {
	case token == "":
		return Caller{}, fmt.Errorf("%w: no X-Auth-Token", ErrUnauthenticated)
	case len(token) > maxTokenLen:
		return Caller{}, fmt.Errorf("%w: X-Auth-Token is too long", ErrUnauthenticated)
	}
	sum := sha256.Sum256([]byte(token))
	key := hex.EncodeToString(sum[:])
	if c, valid, ok := k.cache.get(key, time.Now()); ok {
		if !valid {
			return Caller{}, fmt.Errorf("%w: invalid or expired token", ErrUnauthenticated)
		}
		c.Token = token
		return c, nil
	}
	// Detached from this request: others may be waiting on the same call.
	shared := context.WithoutCancel(ctx)
	ch := k.inflight.DoChan(key, func() (any, error) {
		return k.validateAndCache(shared, key, token)
	})
	select {
	case <-ctx.Done():
		return Caller{}, fmt.Errorf("%w: %w", ErrAuthUnavailable, ctx.Err())
	case res := <-ch:
		if res.Err != nil {
			return Caller{}, res.Err
		}
		c := res.Val.(Caller)
		c.Roles = slices.Clone(c.Roles)
		c.Token = token
		return c, nil
	}
}

func (k *Keystone) validateAndCache(ctx context.Context, key, token string) (Caller, error) {
	c, expires, err := k.validate(ctx, token)
	now := time.Now()
	switch {
	case err == nil:
		k.cache.put(key, c, true, minTime(now.Add(k.cfg.CacheTTL), expires))
	case errors.Is(err, ErrUnauthenticated):
		k.cache.put(key, Caller{}, false, now.Add(min(k.cfg.CacheTTL, negativeTTL)))
	default:
		k.log.Warn("cannot validate tokens", "error", err)
	}
	return c, err
}

// serviceToken is the host's own token, shared by all validations.
type serviceToken struct {
	mu        sync.Mutex
	token     string
	refreshAt time.Time
}

// serviceToken returns the host's token, authenticating when there is
// none or it is about to expire.
func (k *Keystone) serviceToken(ctx context.Context) (string, error) {
	k.svc.mu.Lock()
	defer k.svc.mu.Unlock()
	now := time.Now()
	if k.svc.token != "" && now.Before(k.svc.refreshAt) {
		return k.svc.token, nil
	}
	token, expires, err := k.login(ctx)
	if err != nil {
		k.svc.token = ""
		return "", err
	}
	// Renew ahead of expiry: 30 s, or half the lifetime of short tokens.
	k.svc.token = token
	k.svc.refreshAt = expires.Add(-min(30*time.Second, expires.Sub(now)/2))
	k.log.Debug("obtained service token", "expires_at", expires)
	return token, nil
}

// dropServiceToken forgets token (when Keystone refused it), unless
// another validation already replaced it.
func (k *Keystone) dropServiceToken(token string) {
	k.svc.mu.Lock()
	defer k.svc.mu.Unlock()
	if k.svc.token == token {
		k.svc.token = ""
	}
}

// unreachable is Keystone not answering. net/http's error quotes the URL
// with its user name (and the password as ***): both are left out, as
// the message reaches logs and callers.
func unreachable(err error) error {
	return fmt.Errorf("%w: keystone: %w", ErrAuthUnavailable, redacted{err})
}

// redacted is an error whose text loses URLs' userinfo.
type redacted struct{ err error }

func (r redacted) Error() string { return osclient.RedactText(r.err.Error()) }
func (r redacted) Unwrap() error { return r.err }

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
