package policy_test

import (
	"errors"
	"fmt"

	"github.com/mogan-manage/mogan-manage/host/internal/auth"
	"github.com/mogan-manage/mogan-manage/host/internal/policy"
)

// A handler checks its rule with the caller auth found and, for a record,
// the record's owner as the target.
func ExampleEnforcer_Authorize() {
	e, err := policy.New("") // defaults only
	if err != nil {
		panic(err)
	}
	member := auth.Caller{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}}

	err = e.Authorize(policy.ManageableServersCreate, member, nil)
	fmt.Println(errors.Is(err, policy.ErrForbidden), err)

	ownServer := map[string]string{"project_id": "p1", "user_id": "u9"}
	fmt.Println(e.Authorize(policy.ServerGet, member, ownServer))
	// Output:
	// true Policy doesn't allow mogan:manageable_servers:create to be performed.
	// <nil>
}
