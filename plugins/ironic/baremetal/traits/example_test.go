package traits_test

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/noauth"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/baremetal/traits"
)

// A node's traits, all at once (at least microversion 1.37).
func ExampleSet() {
	ctx := context.Background()
	client, err := noauth.NewBareMetalNoAuth(noauth.EndpointOpts{IronicEndpoint: "http://127.0.0.1:6385/v1/"})
	if err != nil {
		panic(err)
	}
	client.Microversion = "1.65"
	if err := traits.Set(ctx, client, "7de2859d-ec6d-42c7-bb86-9d630ba5ac94", []string{"CUSTOM_GOLD", "HW_CPU_X86_VMX"}).ExtractErr(); err != nil {
		fmt.Println(err)
	}
}
