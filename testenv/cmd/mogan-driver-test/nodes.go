package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// nodeUUIDPrefix starts every node UUID; the index follows in hex.
const nodeUUIDPrefix = "00000000-0000-4000-8000-"

// maintenanceReason is why every tenth node cannot be managed.
const maintenanceReason = "node is in maintenance"

func nodeUUID(i int) string { return fmt.Sprintf("%s%012x", nodeUUIDPrefix, i) }

// nodeIndex is the index behind a node UUID, false when it is not one of
// ours or beyond count.
func nodeIndex(uuid string, count int) (int, bool) {
	hex, ok := strings.CutPrefix(uuid, nodeUUIDPrefix)
	if !ok || len(hex) != 12 {
		return 0, false
	}
	i, err := strconv.ParseInt(hex, 16, 64)
	if err != nil || i < 0 || int(i) >= count {
		return 0, false
	}
	return int(i), true
}

// node builds node i; the same i always gives the same node.
func node(i int) driver.Node {
	n := driver.Node{
		UUID:           nodeUUID(i),
		Name:           fmt.Sprintf("node-%d", i),
		ResourceClass:  resourceClass(i),
		PowerState:     "power on",
		ProvisionState: "active",
		Ports: []driver.Port{
			{UUID: fmt.Sprintf("00000000-0001-4000-8000-%012x", i), Address: mac(i, 1), NeutronPortID: fmt.Sprintf("00000000-0003-4000-8000-%012x", i)},
			{UUID: fmt.Sprintf("00000000-0002-4000-8000-%012x", i), Address: mac(i, 2)},
		},
		Portgroups: []driver.Portgroup{
			{UUID: fmt.Sprintf("00000000-0004-4000-8000-%012x", i), Address: mac(i, 1), Mode: "active-backup"},
		},
		ImageSource: "11111111-2222-4333-8444-555555555555",
		Manageable:  true,
		Properties:  map[string]string{"index": strconv.Itoa(i)},
	}
	if i%4 == 3 {
		n.PowerState = "power off"
	}
	if i%10 == 9 {
		n.Manageable = false
		n.Reason = maintenanceReason
	}
	return n
}

func resourceClass(i int) string {
	if i%2 == 0 {
		return "gold"
	}
	return "silver"
}

// mac is port p's address on node i, unique for i below 2^24.
func mac(i, p int) string {
	return fmt.Sprintf("52:54:%02x:%02x:%02x:%02x", p, (i>>16)&0xff, (i>>8)&0xff, i&0xff)
}

// listed reports whether node i belongs in a listing with opts.
func listed(i int, opts driver.ListOptions) bool {
	if opts.ResourceClass != "" && resourceClass(i) != opts.ResourceClass {
		return false
	}
	return opts.IncludeUnmanageable || i%10 != 9
}
