package notify

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// broker is one host of a transport_url.
type broker struct {
	user, password string
	host           string // host:port, IPv6 in brackets
	vhost          string
}

// String is the broker without its password, for logs and errors.
func (b broker) String() string {
	vhost := url.PathEscape(b.vhost)
	if b.vhost == "/" {
		vhost = ""
	}
	return "rabbit://" + url.User(b.user).String() + ":***@" + b.host + "/" + vhost
}

// parseTransportURL reads oslo's transport_url form,
// rabbit://user:pass@host:port[,user:pass@host:port…]/vhost[?options],
// as oslo.messaging's TransportURL.parse does (netloc split on commas,
// userinfo percent-decoded, port 5672 and user guest/guest by default,
// empty vhost meaning "/"). Errors never quote the password.
func parseTransportURL(raw string) ([]broker, error) {
	const opt = "[DEFAULT] transport_url"
	if strings.TrimSpace(raw) == "" {
		return nil, fmt.Errorf("%s is required for [oslo_messaging_notifications] driver = messagingv2: set it to rabbit://user:password@host:5672/", opt)
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, fmt.Errorf("%s is not of the form rabbit://user:password@host:port/vhost", opt)
	}
	if scheme != "rabbit" {
		return nil, fmt.Errorf("%s scheme %q is not supported: use rabbit://", opt, scheme)
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i] // oslo's query options tune its own driver; none apply here
	}
	netloc, path, _ := strings.Cut(rest, "/")
	vhost, err := url.PathUnescape(path)
	if err != nil {
		return nil, fmt.Errorf("%s: virtual host %q is not percent-encoded correctly", opt, path)
	}
	if vhost == "" {
		vhost = "/"
	}
	if netloc == "" {
		return nil, fmt.Errorf("%s names no host: set rabbit://user:password@host:5672/", opt)
	}
	var brokers []broker
	for i, h := range strings.Split(netloc, ",") {
		b := broker{user: "guest", password: "guest", vhost: vhost}
		hostport := h
		if at := strings.LastIndex(h, "@"); at >= 0 {
			userinfo := h[:at]
			hostport = h[at+1:]
			u, p, hasPass := strings.Cut(userinfo, ":")
			if b.user, err = url.PathUnescape(u); err != nil {
				return nil, fmt.Errorf("%s: host %d: user name is not percent-encoded correctly", opt, i+1)
			}
			b.password = ""
			if hasPass {
				if b.password, err = url.PathUnescape(p); err != nil {
					return nil, fmt.Errorf("%s: host %d: password is not percent-encoded correctly (not shown)", opt, i+1)
				}
			}
		}
		if b.host, err = hostPort(hostport); err != nil {
			return nil, fmt.Errorf("%s: host %d: %w", opt, i+1, err)
		}
		brokers = append(brokers, b)
	}
	return brokers, nil
}

func hostPort(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("empty host name")
	}
	host, port := s, "5672"
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return "", fmt.Errorf("%q: unclosed [ in IPv6 address", s)
		}
		host = s[1:end]
		if tail := s[end+1:]; tail != "" {
			if !strings.HasPrefix(tail, ":") {
				return "", fmt.Errorf("%q: expected :port after ]", s)
			}
			port = tail[1:]
		}
	} else if h, p, ok := strings.Cut(s, ":"); ok {
		host, port = h, p
	}
	if host == "" {
		return "", fmt.Errorf("%q: empty host name", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q: port must be a number from 1 to 65535", s)
	}
	return net.JoinHostPort(host, port), nil
}
