package notify_test

import (
	"encoding/json"
	"fmt"

	"github.com/mogan-manage/mogan-manage/host/internal/notify"
)

// A server.manage.error payload: the server's fields with the fault, as
// upstream Mogan's ServerActionPayload and ExceptionPayload.
func ExampleNewServerActionPayload() {
	p := notify.NewServerActionPayload(map[string]any{
		"uuid": "11111111-2222-3333-4444-555555555555",
		"fault": notify.Fault{
			Exception:        "NodeNotManageable",
			ExceptionMessage: "node n-1 is in maintenance",
			ModuleName:       "mogan_manage.manage",
			FunctionName:     "Adopt",
		},
	})
	b, _ := json.MarshalIndent(p, "", "  ")
	fmt.Println(string(b))
	// Output:
	// {
	//   "mogan_object.name": "ServerActionPayload",
	//   "mogan_object.namespace": "mogan",
	//   "mogan_object.version": "1.0",
	//   "mogan_object.data": {
	//     "fault": {
	//       "mogan_object.name": "ExceptionPayload",
	//       "mogan_object.namespace": "mogan",
	//       "mogan_object.version": "1.0",
	//       "mogan_object.data": {
	//         "module_name": "mogan_manage.manage",
	//         "function_name": "Adopt",
	//         "exception": "NodeNotManageable",
	//         "exception_message": "node n-1 is in maintenance"
	//       }
	//     },
	//     "uuid": "11111111-2222-3333-4444-555555555555"
	//   }
	// }
}
