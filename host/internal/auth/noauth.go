package auth

import (
	"context"
	"net/http"
)

// NoAuth accepts every request as the same admin, as Ironic's and Mogan's
// noauth: for tests and closed networks only.
type NoAuth struct{}

// NoAuthCaller is the caller NoAuth returns.
func NoAuthCaller() Caller {
	return Caller{
		UserID: "admin", UserName: "admin",
		ProjectID: "admin", ProjectName: "admin",
		DomainID: "default",
		Roles:    []string{"admin"},
	}
}

// Authenticate returns NoAuthCaller.
func (NoAuth) Authenticate(context.Context, *http.Request) (Caller, error) {
	return NoAuthCaller(), nil
}

// Challenge is "": there is nothing to ask for.
func (NoAuth) Challenge() string { return "" }
