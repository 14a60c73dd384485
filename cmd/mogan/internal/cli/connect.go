package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/mogan-manage/mogan-manage/cmd/mogan/internal/client"
)

// connFlags are the global connection flags.
type connFlags struct {
	cloud    string
	url      string
	username string
	password string
	timeout  time.Duration
}

func (f *connFlags) register(root *cobra.Command) {
	pf := root.PersistentFlags()
	pf.StringVar(&f.cloud, "os-cloud", "", "clouds.yaml entry to authenticate with Keystone (default $OS_CLOUD)")
	pf.StringVar(&f.url, "url", "", "the API's endpoint, e.g. http://127.0.0.1:6688 (default $MOGAN_URL)")
	pf.StringVar(&f.username, "username", "", "http_basic user (with --url); the password comes from $OS_PASSWORD or a prompt")
	pf.StringVar(&f.password, "password", "", "http_basic password; avoid it: a flag is visible to every user in ps and kept in shell history (use $OS_PASSWORD or the prompt)")
	pf.DurationVar(&f.timeout, "timeout", defaultTimeout, "bound on each API request")
}

// connect resolves the connection flags and environment into a client.
func (a *app) connect(ctx context.Context) (*client.Client, error) {
	f, getenv := a.conn, a.env.Getenv
	o := client.Options{URL: f.url, Timeout: f.timeout}
	if o.URL == "" {
		o.URL = getenv("MOGAN_URL")
	}
	switch {
	case f.username != "":
		if o.URL == "" {
			return nil, usagef("--username (http_basic) needs --url or MOGAN_URL")
		}
		o.Username, o.Password = f.username, f.password
		if o.Password == "" {
			o.Password = getenv("OS_PASSWORD")
		}
		if o.Password == "" {
			if a.env.ReadPassword == nil {
				return nil, usagef("no password for %s: set OS_PASSWORD (stdin is not a terminal to prompt on)", f.username)
			}
			pw, err := a.env.ReadPassword("Password for " + f.username + ": ")
			if err != nil {
				return nil, err
			}
			o.Password = pw
		}
	default:
		o.Cloud = f.cloud
		if o.Cloud == "" {
			o.Cloud = getenv("OS_CLOUD")
		}
		if o.Cloud == "" && o.URL == "" {
			return nil, usagef("no API to talk to: give --os-cloud (or OS_CLOUD) or --url (or MOGAN_URL)")
		}
	}
	return client.Connect(ctx, o)
}
