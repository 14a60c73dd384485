package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

// Errors Authenticate returns; test them with errors.Is. Their messages
// (and those of errors wrapping them) never contain a credential, so they
// may be shown to the client.
var (
	// ErrUnauthenticated: no credential, or a wrong, malformed, expired or
	// revoked one (HTTP 401).
	ErrUnauthenticated = errors.New("authentication required")
	// ErrAuthUnavailable: the credential could not be checked, e.g.
	// Keystone is unreachable or refuses the host's service credentials
	// (HTTP 503).
	ErrAuthUnavailable = errors.New("authentication service unavailable")
)

// Caller is an authenticated API client.
type Caller struct {
	UserID, UserName string
	ProjectID        string
	ProjectName      string
	DomainID         string // the user's domain
	Roles            []string
	Token            string // the caller's Keystone token, "" otherwise; never log it
}

// String describes the caller for logs, without the token.
func (c Caller) String() string {
	return fmt.Sprintf("user %s (%s) project %s (%s) roles %v", c.UserName, c.UserID, c.ProjectName, c.ProjectID, c.Roles)
}

// Authenticator finds the caller of a request.
type Authenticator interface {
	// Authenticate returns the caller of r, or an error with
	// errors.Is(err, ErrUnauthenticated) (401) or ErrAuthUnavailable (503).
	Authenticate(ctx context.Context, r *http.Request) (Caller, error)
	// Challenge is the WWW-Authenticate header value for a 401 ("" for
	// none), e.g. `Basic realm="mogan"` or `Keystone uri="..."`.
	Challenge() string
}

// Directory looks projects and users up in the identity service, with the
// host's own credentials. Only the keystone strategy has one: under
// http_basic and noauth there is no directory to ask.
type Directory interface {
	// ProjectExists reports whether the project exists; an error is
	// ErrAuthUnavailable (the directory could not be asked).
	ProjectExists(ctx context.Context, id string) (bool, error)
	// UserExists reports whether the user exists, as ProjectExists.
	UserExists(ctx context.Context, id string) (bool, error)
}

// Strategies ([DEFAULT] auth_strategy).
const (
	StrategyNoAuth    = "noauth"
	StrategyHTTPBasic = "http_basic"
	StrategyKeystone  = "keystone"
)

// Config selects and configures the strategy.
type Config struct {
	Strategy          string // [DEFAULT] auth_strategy: noauth | http_basic | keystone
	HTTPBasicUserFile string // [DEFAULT] http_basic_auth_user_file
	Keystone          KeystoneConfig
}

// KeystoneConfig is [keystone_authtoken], with keystonemiddleware's option
// names.
type KeystoneConfig struct {
	AuthType           string // auth_type: "password" (the only one; "" means it)
	AuthURL            string // auth_url, e.g. http://keystone:5000/v3 (or without /v3)
	WWWAuthenticateURI string // www_authenticate_uri, sent in 401 challenges; auth_url if ""
	Username           string
	Password           string
	ProjectName        string
	// The user's and the project's domain, by name or by id (keystoneauth's
	// *_domain_name or *_domain_id): one of each pair, or neither for the
	// name "Default".
	UserDomainName    string
	UserDomainID      string
	ProjectDomainName string
	ProjectDomainID   string
	CAFile            string // cafile: PEM bundle to trust for https
	Insecure          bool   // insecure: skip TLS verification
	// CacheTTL is how long a validation result is reused (token_cache_time):
	// never past the token's expiry. 0 means DefaultCacheTTL; negative
	// disables the cache.
	CacheTTL time.Duration
	// CacheSize bounds the number of cached tokens; 0 means DefaultCacheSize.
	CacheSize int
	// Timeout bounds each call to Keystone (http_request_max_retries is
	// not supported); 0 means DefaultTimeout.
	Timeout time.Duration
	// Observe, when set, is told of every request to Keystone (the
	// host's metrics, service "keystone").
	Observe osclient.Observer
}

// Defaults for KeystoneConfig's zero values.
const (
	DefaultCacheTTL  = 5 * time.Minute
	DefaultCacheSize = 10000
	DefaultTimeout   = 10 * time.Second
)

// New returns the Authenticator for cfg.Strategy. Configuration errors
// (an unknown strategy, an unreadable or malformed user file, missing
// Keystone options) are returned here, so the host refuses to start.
// The keystone strategy does not contact Keystone until the first
// request, so the host starts while Keystone is down.
func New(ctx context.Context, cfg Config, logger hclog.Logger) (Authenticator, error) {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	switch cfg.Strategy {
	case StrategyNoAuth:
		logger.Warn("auth_strategy is noauth: every caller is admin")
		return NoAuth{}, nil
	case StrategyHTTPBasic:
		return NewHTTPBasic(cfg.HTTPBasicUserFile)
	case StrategyKeystone:
		return newKeystone(ctx, cfg.Keystone, logger.Named("keystone"))
	case "":
		return nil, fmt.Errorf("auth_strategy is not set (noauth, http_basic or keystone)")
	default:
		return nil, fmt.Errorf("auth_strategy %q is not one of noauth, http_basic, keystone", cfg.Strategy)
	}
}
