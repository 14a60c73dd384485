package portgroups

import "github.com/gophercloud/gophercloud/v2"

func listURL(client *gophercloud.ServiceClient) string {
	return client.ServiceURL("portgroups")
}

func createURL(client *gophercloud.ServiceClient) string {
	return client.ServiceURL("portgroups")
}
