// Command mogan is the operator CLI of the Mogan API: list adoptable
// nodes, adopt them in bulk with progress, migrate running machines in
// from an inventory or another backend, release servers, read the audit
// trail. It talks to the HTTP API only.
package main

import (
	"context"
	"os"

	"github.com/mogan-manage/mogan-manage/cmd/mogan/internal/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.OSEnv()))
}
