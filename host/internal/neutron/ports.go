package neutron

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/portsbinding"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// batchSize is how many ids one listing request carries: 50 canonical
// UUIDs make a query of about 2,000 characters, well under the URL limits
// of proxies in front of Neutron.
const batchSize = 50

// FixedIP is one address of a port.
type FixedIP struct {
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address"`
}

// Port is a Neutron port and its binding.
type Port struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	NetworkID  string    `json:"network_id"`
	MACAddress string    `json:"mac_address"`
	HostID     string    `json:"binding:host_id"`
	VNICType   string    `json:"binding:vnic_type"`
	VIFType    string    `json:"binding:vif_type"`
	FixedIPs   []FixedIP `json:"fixed_ips"`
}

// uuidLike is the form of Neutron's ids; anything else cannot name a port.
var uuidLike = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// idsQuery lists the ports with any of the ids: GET /v2.0/ports?id=a&id=b.
// ports.ListOpts takes a single id.
type idsQuery []string

func (q idsQuery) ToPortListQuery() (string, error) {
	v := url.Values{"id": q}
	return "?" + v.Encode(), nil
}

// Ports returns the ports among ids that exist, keyed by the id as given.
// Ids are matched without regard to case; duplicates and ids that are not
// UUID-like are never sent. It asks in batches of batchSize ids per
// request, following Neutron's pages, never one request per id.
func (c *Client) Ports(ctx context.Context, ids []string) (map[string]Port, error) {
	given := map[string][]string{} // lower-case id → the spellings asked for
	var query []string
	for _, id := range ids {
		if !uuidLike.MatchString(id) {
			continue
		}
		key := strings.ToLower(id)
		if _, seen := given[key]; !seen {
			query = append(query, key)
		}
		given[key] = append(given[key], id)
	}
	found := make(map[string]Port, len(query))
	if len(query) == 0 {
		return found, nil
	}
	const op = "port lookup"
	sc, err := c.neutron.Client(ctx, op)
	if err != nil {
		return nil, err
	}
	for start := 0; start < len(query); start += batchSize {
		chunk := query[start:min(start+batchSize, len(query))]
		err := ports.List(sc, idsQuery(chunk)).EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
			var got []Port
			if err := ports.ExtractPortsInto(page, &got); err != nil {
				return false, err
			}
			for _, p := range got {
				for _, id := range given[strings.ToLower(p.ID)] {
					found[id] = p
				}
			}
			return true, nil
		})
		if err != nil {
			return nil, c.neutron.Classify(ctx, op, err)
		}
	}
	c.log.Debug("looked ports up", "asked", len(ids), "sent", len(query), "found", len(found))
	return found, nil
}

// Bind sets the port's binding:host_id and binding:vnic_type and returns
// the port as Neutron answers (its binding:vif_type says whether a
// mechanism driver bound it). Binding back to the previous values undoes
// a bind. A port that does not exist is ErrPortNotFound.
func (c *Client) Bind(ctx context.Context, portID, hostID, vnicType string) (Port, error) {
	opts := portsbinding.UpdateOptsExt{
		UpdateOptsBuilder: ports.UpdateOpts{},
		HostID:            &hostID,
		VNICType:          vnicType,
	}
	op := "binding port " + portID
	sc, err := c.neutron.Client(ctx, op)
	if err != nil {
		return Port{}, err
	}
	var p Port
	err = ports.Update(ctx, sc, portID, opts).ExtractInto(&p)
	if err == nil {
		c.log.Debug("bound port", "port", portID, "host_id", hostID, "vnic_type", vnicType, "vif_type", p.VIFType)
		return p, nil
	}
	var code gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &code) && code.Actual == 404 {
		if typ, _ := neutronError(code.Body); typ == "PortNotFound" {
			return Port{}, &portNotFound{id: portID, where: c.neutron.Where()}
		}
	}
	return Port{}, c.neutron.Classify(ctx, op, err)
}

// portNotFound is ErrPortNotFound naming the port and where it was looked for.
type portNotFound struct{ id, where string }

func (e *portNotFound) Error() string {
	return "neutron port " + e.id + " not found " + e.where
}

func (e *portNotFound) Is(target error) bool { return target == ErrPortNotFound }
