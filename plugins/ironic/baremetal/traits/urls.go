package traits

import "github.com/gophercloud/gophercloud/v2"

func setURL(client *gophercloud.ServiceClient, nodeID string) string {
	return client.ServiceURL("nodes", nodeID, "traits")
}
