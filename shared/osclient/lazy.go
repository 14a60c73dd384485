package osclient

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/hashicorp/go-hclog"
)

// Lazy is a client of one service for a process that must start while the
// service, or the Keystone in front of it, is down: an outage of a
// dependency never keeps it down, only a bad option does. Open parses the
// section and tries to connect; when Keystone or the service fails, Client
// connects again at each use until one succeeds, and remembers that
// connection (gophercloud re-authenticates when its token expires).
//
// Its errors name the service and where it is: "Glance at <url> is
// unavailable: …" (errors.Is Service.Unavailable), "[glance] <option>: …"
// for an option Connect refuses, "<op> refused by Glance at <url>: HTTP
// 400: …" for a request the service refuses, and the caller's own
// cancellation or deadline as that.
type Lazy struct {
	section string
	opts    *Options
	svc     Service

	mu      sync.Mutex
	sc      *gophercloud.ServiceClient // nil until a connection succeeds
	where   string                     // "at <endpoint>", or how it is to be found
	pending *attempt                   // the connection attempt in flight, if any
}

// attempt is one try at connecting, shared by every caller that asks while
// it is in flight: during an outage they wait for one attempt, each no
// longer than its own ctx, instead of queueing one timeout after another.
type attempt struct {
	done chan struct{} // closed when sc, err are set
	sc   *gophercloud.ServiceClient
	err  error
}

// Open parses the [section] options with spec and connects to svc at once.
// A refused option is an error "[section] <option>: …". Keystone or the
// service failing is logged as a warning, not an error: Client tries again.
func Open(ctx context.Context, section string, options map[string]string, spec Spec, svc Service, log hclog.Logger) (*Lazy, error) {
	o, err := Parse(options, spec)
	if err != nil {
		return nil, sectionError(section, err)
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if svc.Logger == nil {
		svc.Logger = log
	}
	l := &Lazy{section: section, opts: o, svc: svc}
	switch {
	case o.URL != "":
		l.where = "at " + displayURL(o.URL)
	case o.Cloud != "":
		l.where = "(from the Keystone catalog of cloud " + o.Cloud + ")"
	default:
		l.where = "(from the Keystone catalog of " + Redact(o.AuthURL) + ")"
	}
	if _, err := l.Client(ctx, ""); err != nil {
		var oe *OptionError
		if errors.As(err, &oe) {
			return nil, err
		}
		log.Warn("cannot connect to "+svc.Name+" yet; trying again at its first use", "error", err)
	}
	auth := o.AuthType
	if o.Cloud != "" {
		auth = "cloud " + o.Cloud
	}
	log.Info(svc.Name+" configured", "where", l.Where(), "auth", auth)
	return l, nil
}

// Client returns the service client, connecting when there is none yet.
// op names what the caller is about to do, for messages ("" for nothing in
// particular). Errors: "[section] <option>: …" wrapping *OptionError, the
// caller's ctx ending, or Service.Unavailable.
func (l *Lazy) Client(ctx context.Context, op string) (*gophercloud.ServiceClient, error) {
	l.mu.Lock()
	if l.sc != nil {
		defer l.mu.Unlock()
		return l.sc, nil
	}
	a := l.pending
	if a == nil {
		a = &attempt{done: make(chan struct{})}
		l.pending = a
		// Not the caller's cancellation: the attempt serves whoever waits
		// for it; the timeout option bounds each of its requests.
		go l.connect(context.WithoutCancel(ctx), a)
	}
	where := l.where
	l.mu.Unlock()
	select {
	case <-a.done:
	case <-ctx.Done():
		return nil, l.canceled(ctx, where, op)
	}
	var oe *OptionError
	switch {
	case a.err == nil:
		return a.sc, nil
	case errors.As(a.err, &oe):
		return nil, sectionError(l.section, a.err)
	default:
		return nil, l.unavailable(where, op, RedactText(a.err.Error()))
	}
}

// connect makes attempt a and, when it succeeds, keeps its client.
func (l *Lazy) connect(ctx context.Context, a *attempt) {
	sc, err := l.opts.Connect(ctx, l.svc)
	l.mu.Lock()
	defer l.mu.Unlock()
	a.sc, a.err = sc, err
	l.pending = nil
	if err == nil {
		l.sc, l.where = sc, "at "+displayURL(sc.Endpoint)
	}
	close(a.done)
}

// Where is where the service is, for messages: "at <endpoint>" (without
// userinfo) once known, or how it is to be found until then.
func (l *Lazy) Where() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.where
}

// Classify turns a failed request (op names it) into Service.Unavailable
// when the service could not answer it: unreachable, failing (5xx),
// refusing the credentials (401, 403), a 404 (the endpoint does not lead
// to the service; a caller that expects the service's own 404 checks it
// first) or an answer that is not the service's. Any other status is an
// error carrying the service's message. The caller's own deadline or
// cancellation stays what it is: that is not the service's fault.
func (l *Lazy) Classify(ctx context.Context, op string, err error) error {
	where := l.Where()
	if ctx.Err() != nil {
		return l.canceled(ctx, where, op)
	}
	var code gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &code) {
		// Refused, reset, timed out, or a body that is not the service's.
		detail := err.Error()
		var ue *url.Error
		if errors.As(err, &ue) {
			detail = ue.Err.Error() // without the whole query URL
		}
		return l.unavailable(where, op, RedactText(detail))
	}
	msg := fmt.Sprintf("HTTP %d: %s", code.Actual, l.message(code.Body))
	switch {
	case code.Actual >= 500, code.Actual == 401, code.Actual == 403, code.Actual == 404:
		return l.unavailable(where, op, msg)
	default:
		return fmt.Errorf("%s refused by %s %s: %s", op, l.svc.Name, where, msg)
	}
}

// message is what an error body says: the service's own message when
// Service.ErrorMessage finds one, else the body, on one line, shortened,
// without userinfo.
func (l *Lazy) message(body []byte) string {
	if l.svc.ErrorMessage != nil {
		if m := l.svc.ErrorMessage(body); m != "" {
			return RedactText(m)
		}
	}
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut-- // never half a character
		}
		s = s[:cut] + "…"
	}
	return RedactText(s)
}

// unavailable is Service.Unavailable: "<Name> <where> is unavailable:
// <op>: <detail>".
func (l *Lazy) unavailable(where, op, detail string) error {
	if op != "" {
		detail = op + ": " + detail
	}
	return &unavailableError{
		msg:      fmt.Sprintf("%s %s is unavailable: %s", l.svc.Name, where, detail),
		sentinel: l.svc.Unavailable,
	}
}

// canceled is the caller's ctx ending during op, wrapped so that errors.Is
// finds context.Canceled or DeadlineExceeded.
func (l *Lazy) canceled(ctx context.Context, where, op string) error {
	if op == "" {
		op = "request"
	}
	return fmt.Errorf("%s with %s %s: %w", op, l.svc.Name, where, ctx.Err())
}

// unavailableError reads as its message and is its sentinel. It does not
// unwrap to the transport's error: a client's timeout must not read as the
// caller's context.DeadlineExceeded.
type unavailableError struct {
	msg      string
	sentinel error
}

func (e *unavailableError) Error() string { return e.msg }
func (e *unavailableError) Is(target error) bool {
	return e.sentinel != nil && target == e.sentinel
}

// displayURL is an endpoint for messages: without userinfo or the trailing
// slash gophercloud adds.
func displayURL(u string) string {
	return strings.TrimSuffix(Redact(u), "/")
}

// sectionError names the option at fault as the configuration file does:
// "[glance] cafile: …". It wraps the *OptionError.
func sectionError(section string, err error) error {
	var oe *OptionError
	if errors.As(err, &oe) {
		return &sectionOptionError{section: section, err: oe}
	}
	return fmt.Errorf("[%s]: %w", section, err)
}

type sectionOptionError struct {
	section string
	err     *OptionError
}

func (e *sectionOptionError) Error() string {
	return fmt.Sprintf("[%s] %s: %s", e.section, e.err.Option, e.err.Msg)
}
func (e *sectionOptionError) Unwrap() error { return e.err }
