package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Exit codes.
const (
	ExitOK     = 0
	ExitFailed = 1 // an API or connection error, or a node that failed
	ExitUsage  = 2 // bad flags or arguments, or an inventory or secrets file that is wrong
)

// Env is what the commands read and write outside the process.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// StderrIsTerminal chooses the progress bar over one line per node.
	StderrIsTerminal bool
	// ReadPassword prompts for a password (on the terminal); nil: no
	// terminal to ask on.
	ReadPassword func(prompt string) (string, error)
	// Interrupts delivers Ctrl-C; stop ends the delivery.
	Interrupts func() (ch <-chan os.Signal, stop func())
}

// OSEnv is the process's own environment.
func OSEnv() Env {
	env := Env{
		Stdout:           os.Stdout,
		Stderr:           os.Stderr,
		Getenv:           os.Getenv,
		StderrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		Interrupts: func() (<-chan os.Signal, func()) {
			ch := make(chan os.Signal, 2)
			signal.Notify(ch, os.Interrupt)
			return ch, func() { signal.Stop(ch) }
		},
	}
	if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
		env.ReadPassword = func(prompt string) (string, error) {
			fmt.Fprint(os.Stderr, prompt)
			b, err := term.ReadPassword(fd)
			fmt.Fprintln(os.Stderr)
			return string(b), err
		}
	}
	return env
}

// usageError is a mistake in the command line (exit 2).
type usageError struct{ error }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// inputError is a file the command reads that is wrong (an inventory, a
// secrets file): exit 2, nothing sent, but no usage hint.
type inputError struct{ error }

// errReported is a failure already told to the user (the adoption
// table): exit 1 without another message.
var errReported = errors.New("failed (reported above)")

// Main runs the command line args and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	app := &app{env: env}
	root := app.rootCommand()
	root.SetArgs(args)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errReported):
		return ExitFailed
	}
	var ie inputError
	if errors.As(err, &ie) {
		printf(env.Stderr, "Error: %v\n", err)
		return ExitUsage
	}
	var ue usageError
	if errors.As(err, &ue) || !app.ran {
		// Errors before a command ran are cobra's: flags, arguments, an
		// unknown command.
		printf(env.Stderr, "Error: %v\nRun '%s --help' for usage.\n", err, commandPath(root, args))
		return ExitUsage
	}
	printf(env.Stderr, "Error: %v\n", err)
	return ExitFailed
}

// commandPath names the (sub)command args address, for the usage hint.
func commandPath(root *cobra.Command, args []string) string {
	if c, _, err := root.Find(args); err == nil {
		return c.CommandPath()
	}
	return root.Name()
}

// app holds the global flags and what every command shares.
type app struct {
	env  Env
	conn connFlags
	ran  bool // a command's Run started: its errors are not usage errors
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "mogan",
		Short: "Operate a Mogan API: list adoptable bare metal nodes, adopt them, migrate running machines in, release them",
		Long: `mogan talks to the Mogan API over HTTP (never to its database or driver), so
authentication, policy, the intent log and notifications apply to everything it does.

Connection (first match wins):
  --username with --url    http_basic: the password from OS_PASSWORD, else a prompt
  --os-cloud / OS_CLOUD    a clouds.yaml entry: a Keystone token, the endpoint from the
                           catalog's baremetal_compute service (--url overrides it)
  --url / MOGAN_URL        no authentication (an API with auth_strategy = noauth)

Exit codes: 0 done; 1 an error, or a node or machine that failed; 2 a usage error,
or an inventory or secrets file that is wrong (then nothing was sent).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(*cobra.Command, []string) {
			a.ran = true
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	a.conn.register(root)
	root.AddCommand(a.manageableCommand(), a.adoptCommand(), a.unmanageCommand(), a.serverCommand(),
		a.migrateCommand(), a.migrationCommand())
	return root
}

// defaultTimeout bounds each API request.
const defaultTimeout = 5 * time.Minute

// interruptible is how a bulk command takes Ctrl-C: the first says what
// (first) and closes stop — start nothing more, finish what runs —, the
// second cancels work, abandoning what runs. work is not ctx's child
// before that: the first Ctrl-C never cuts a request short. done ends it.
func (a *app) interruptible(ctx context.Context, first string) (work context.Context, stop <-chan struct{}, done func()) {
	work, abandon := context.WithCancel(context.WithoutCancel(ctx))
	stopped := make(chan struct{})
	interrupts, stopInterrupts := a.env.Interrupts()
	go func() {
		select {
		case <-interrupts:
		case <-work.Done():
			return
		}
		printf(a.env.Stderr, "\n%s\n", first)
		close(stopped)
		select {
		case <-interrupts:
			abandon()
		case <-work.Done():
		}
	}()
	return work, stopped, func() {
		stopInterrupts()
		abandon()
	}
}
