package main

import (
	"context"
	"net/http"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"
)

// rawHandoff makes, for one machine, the requests a handoff with an
// adoption must make: read it in A, hold it, create it in B with its
// Neutron ports, manage, adopt and protect it, release it from A, bind its
// ports and associate it.
func (b *bench) rawHandoff(ctx context.Context, node string) error {
	migration, server := uuid.NewString(), uuid.NewString()
	marker := map[string]any{"mogan_migration_id": migration}
	srcURL, dstURL := b.a.URL+"/v1", b.b.URL+"/v1"

	// What an export reads: the node, its ports, its portgroups.
	var n struct {
		Name            string         `json:"name"`
		Driver          string         `json:"driver"`
		DriverInfo      map[string]any `json:"driver_info"`
		ResourceClass   string         `json:"resource_class"`
		Properties      map[string]any `json:"properties"`
		InstanceInfo    map[string]any `json:"instance_info"`
		DeployInterface string         `json:"deploy_interface"`
	}
	var ports struct {
		Ports []struct {
			Address         string  `json:"address"`
			PXEEnabled      *bool   `json:"pxe_enabled"`
			PhysicalNetwork *string `json:"physical_network"`
		} `json:"ports"`
	}
	var pgs struct {
		Portgroups []struct {
			Address string  `json:"address"`
			Mode    string  `json:"mode"`
			Name    *string `json:"name"`
		} `json:"portgroups"`
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return b.raw.Call(gctx, srcURL+"/nodes/"+node+"?fields=name,driver,driver_info,resource_class,properties,instance_info,deploy_interface",
			http.MethodGet, nil, &n, http.StatusOK)
	})
	g.Go(func() error {
		return b.raw.Call(gctx, srcURL+"/ports?node="+node+"&fields=address,pxe_enabled,physical_network&limit=1000", http.MethodGet, nil, &ports, http.StatusOK)
	})
	g.Go(func() error {
		return b.raw.Call(gctx, srcURL+"/portgroups?node="+node+"&fields=address,mode,name&limit=1000", http.MethodGet, nil, &pgs, http.StatusOK)
	})
	if err := g.Wait(); err != nil {
		return err
	}
	// The hold.
	if err := b.raw.Call(ctx, srcURL+"/nodes/"+node+"/maintenance", http.MethodPut, map[string]string{"reason": "mogan-manage migration " + migration},
		nil, http.StatusAccepted); err != nil {
		return err
	}
	// B's Neutron ports, the node, its portgroup and ports.
	vifs := make([]string, len(ports.Ports))
	for i, p := range ports.Ports {
		var made struct {
			Port struct {
				ID string `json:"id"`
			} `json:"port"`
		}
		if err := b.raw.Call(ctx, b.neutron.URL+"/v2.0/ports", http.MethodPost, map[string]any{"port": map[string]any{
			"network_id": b.networkID, "mac_address": p.Address, "name": "mogan-migration-" + migration,
		}}, &made, http.StatusCreated); err != nil {
			return err
		}
		vifs[i] = made.Port.ID
	}
	create := map[string]any{
		"uuid": node, "name": n.Name, "driver": n.Driver, "driver_info": n.DriverInfo, "resource_class": n.ResourceClass,
		"properties": n.Properties, "automated_clean": false, "deploy_interface": n.DeployInterface, "extra": marker,
		"instance_info": map[string]any{"image_source": n.InstanceInfo["image_source"]},
	}
	if err := b.raw.Call(ctx, dstURL+"/nodes", http.MethodPost, create, nil, http.StatusCreated); err != nil {
		return err
	}
	for _, pg := range pgs.Portgroups {
		body := map[string]any{"node_uuid": node, "address": pg.Address, "mode": pg.Mode, "extra": marker}
		if pg.Name != nil {
			body["name"] = *pg.Name
		}
		if err := b.raw.Call(ctx, dstURL+"/portgroups", http.MethodPost, body, nil, http.StatusCreated); err != nil {
			return err
		}
	}
	for i, p := range ports.Ports {
		body := map[string]any{"node_uuid": node, "address": p.Address, "extra": map[string]any{"mogan_migration_id": migration, "vif_port_id": vifs[i]}}
		if p.PXEEnabled != nil {
			body["pxe_enabled"] = *p.PXEEnabled
		}
		if p.PhysicalNetwork != nil {
			body["physical_network"] = *p.PhysicalNetwork
		}
		if err := b.raw.Call(ctx, dstURL+"/ports", http.MethodPost, body, nil, http.StatusCreated); err != nil {
			return err
		}
	}
	// Manage, adopt, protect.
	if err := b.raw.ManageAdoptProtect(ctx, dstURL, node, migration); err != nil {
		return err
	}
	// The release.
	if err := b.raw.Call(ctx, srcURL+"/nodes/"+node, http.MethodDelete, nil, nil, http.StatusNoContent); err != nil {
		return err
	}
	// The adoption: bind the ports, associate the node with the interlock.
	for _, vif := range vifs {
		if err := b.raw.BindPort(ctx, b.neutron.URL, vif, node); err != nil {
			return err
		}
	}
	return b.raw.Associate(ctx, dstURL, node, server, migration)
}
