package inventory

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	yaml "gopkg.in/yaml.v2"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// Write writes machines as an inventory in format f, fields in the
// schema's order, so that Parse reads back the same machines. CSV refuses
// (an Errors naming each machine and field) what its columns cannot say:
// portgroups, ports on different networks, properties, … — never dropping
// a field silently.
func Write(w io.Writer, f Format, machines []driver.Machine) error {
	switch f {
	case JSON:
		list := make([]ordered, len(machines))
		for i, m := range machines {
			list[i] = machineFields(m)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(ordered{{"machines", list}})
	case YAML:
		list := make([]any, len(machines))
		for i, m := range machines {
			list[i] = machineFields(m).yaml()
		}
		b, err := yaml.Marshal(yaml.MapSlice{{Key: "machines", Value: list}})
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	case CSV:
		return writeCSV(w, machines)
	}
	return fmt.Errorf("unknown inventory format %q: yaml, json or csv", f)
}

// kv is one field of an ordered object.
type kv struct {
	key   string
	value any
}

// ordered is an object whose fields keep their order, in JSON and YAML.
type ordered []kv

func (o ordered) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.key)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(f.value); err != nil {
			return nil, err
		}
		b.Write(bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (o ordered) yaml() yaml.MapSlice {
	out := make(yaml.MapSlice, len(o))
	for i, f := range o {
		out[i] = yaml.MapItem{Key: f.key, Value: yamlValue(f.value)}
	}
	return out
}

// yamlValue is a value as yaml.v2 should write it: json.Number as the
// number it is (yaml.v2 would quote it as a string), maps with sorted
// keys.
func yamlValue(v any) any {
	switch t := v.(type) {
	case ordered:
		return t.yaml()
	case []ordered:
		out := make([]any, len(t))
		for i, o := range t {
			out[i] = o.yaml()
		}
		return out
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return n
		}
		if f, err := t.Float64(); err == nil {
			return f
		}
		return string(t)
	case map[string]any:
		out := make(yaml.MapSlice, 0, len(t))
		for _, k := range sortedKeys(t) {
			out = append(out, yaml.MapItem{Key: k, Value: yamlValue(t[k])})
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = yamlValue(e)
		}
		return out
	}
	return v
}

// machineFields is a machine's JSON form in the schema's order, without
// empty fields.
func machineFields(m driver.Machine) ordered {
	var o ordered
	str := func(k, v string) {
		if v != "" {
			o = append(o, kv{k, v})
		}
	}
	str("name", m.Name)
	str("driver", m.Driver)
	if len(m.DriverInfo) > 0 {
		o = append(o, kv{"driver_info", m.DriverInfo})
	}
	if len(m.Secrets) > 0 {
		o = append(o, kv{"secrets", m.Secrets})
	}
	str("resource_class", m.ResourceClass)
	if len(m.Properties) > 0 {
		o = append(o, kv{"properties", m.Properties})
	}
	if len(m.Traits) > 0 {
		o = append(o, kv{"traits", m.Traits})
	}
	str("deploy_interface", m.DeployInterface)
	str("image", m.Image)
	str("power_state", m.PowerState)
	if len(m.Ports) > 0 {
		ports := make([]ordered, len(m.Ports))
		for i, p := range m.Ports {
			port := ordered{{"mac", p.MAC}}
			if p.PXEEnabled != nil {
				port = append(port, kv{"pxe_enabled", *p.PXEEnabled})
			}
			if p.PhysicalNetwork != "" {
				port = append(port, kv{"physical_network", p.PhysicalNetwork})
			}
			if p.Network != "" {
				port = append(port, kv{"network", p.Network})
			}
			if len(p.FixedIPs) > 0 {
				port = append(port, kv{"fixed_ips", p.FixedIPs})
			}
			ports[i] = port
		}
		o = append(o, kv{"ports", ports})
	}
	if len(m.Portgroups) > 0 {
		groups := make([]ordered, len(m.Portgroups))
		for i, g := range m.Portgroups {
			var group ordered
			if g.Name != "" {
				group = append(group, kv{"name", g.Name})
			}
			group = append(group, kv{"mac", g.MAC})
			if g.Mode != "" {
				group = append(group, kv{"mode", g.Mode})
			}
			if len(g.Ports) > 0 {
				group = append(group, kv{"ports", g.Ports})
			}
			groups[i] = group
		}
		o = append(o, kv{"portgroups", groups})
	}
	str("owner", m.Owner)
	str("lessee", m.Lessee)
	return o
}

// CSVCannotSay lists the fields of m the CSV form has no column for, or
// cannot say as they are ("portgroups", "ports[1].network", …): such a
// machine needs the YAML or JSON form.
func CSVCannotSay(m driver.Machine) []string {
	var out []string
	if len(m.Properties) > 0 {
		out = append(out, "properties")
	}
	if m.DeployInterface != "" {
		out = append(out, "deploy_interface")
	}
	if len(m.Portgroups) > 0 {
		out = append(out, "portgroups")
	}
	if m.Owner != "" {
		out = append(out, "owner")
	}
	if m.Lessee != "" {
		out = append(out, "lessee")
	}
	for _, k := range sortedKeys(m.DriverInfo) {
		field := displayPath([]string{"driver_info", k})
		v, ok := m.DriverInfo[k].(string)
		switch {
		case !ok:
			out = append(out, field+" (not a string)")
		case strings.TrimSpace(v) != v || strings.TrimSpace(k) != k:
			out = append(out, field+" (spaces at an end)")
		case strings.Contains(k, "="):
			out = append(out, field+" (a key with '=')")
		}
	}
	for i, p := range m.Ports {
		field := fmt.Sprintf("ports[%d]", i)
		if p.PXEEnabled != nil {
			out = append(out, field+".pxe_enabled")
		}
		if p.PhysicalNetwork != "" {
			out = append(out, field+".physical_network")
		}
		if p.Network != m.Ports[0].Network {
			out = append(out, field+".network (one network for every port)")
		}
		if len(p.FixedIPs) > 1 {
			out = append(out, field+".fixed_ips (one address a port)")
		}
	}
	return out
}

func writeCSV(w io.Writer, machines []driver.Machine) error {
	var errs Errors
	rows := [][]string{Columns}
	for i, m := range machines {
		if cannot := CSVCannotSay(m); len(cannot) > 0 {
			errs = append(errs, &Error{Machine: machineLabel(m.Name, i),
				Message: "CSV cannot say " + strings.Join(cannot, ", ") + ": use the YAML or JSON form"})
			continue
		}
		row, err := csvRow(m)
		if err != nil {
			errs = append(errs, &Error{Machine: machineLabel(m.Name, i), Message: err.Error()})
			continue
		}
		rows = append(rows, row)
	}
	if len(errs) > 0 {
		return errs
	}
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

// csvRow is m's row in Columns' order.
func csvRow(m driver.Machine) ([]string, error) { // CSVCannotSay(m) is empty
	var info []string
	for _, k := range sortedKeys(m.DriverInfo) {
		info = append(info, k+"="+m.DriverInfo[k].(string))
	}
	var macs, ips []string
	network := ""
	anyIP := false
	for _, p := range m.Ports {
		macs = append(macs, p.MAC)
		network = p.Network
		ip := ""
		if len(p.FixedIPs) == 1 {
			ip, anyIP = p.FixedIPs[0], true
		}
		ips = append(ips, ip)
	}
	if !anyIP {
		ips = nil
	}
	for len(ips) > 0 && ips[len(ips)-1] == "" {
		ips = ips[:len(ips)-1] // a port without an address at the end says nothing
	}
	cells := map[string][]string{"driver_info": info, "secrets": m.Secrets, "macs": macs, "fixed_ips": ips, "traits": m.Traits}
	row := make([]string, len(Columns))
	for i, c := range Columns {
		switch c {
		case "name":
			row[i] = m.Name
		case "driver":
			row[i] = m.Driver
		case "resource_class":
			row[i] = m.ResourceClass
		case "image":
			row[i] = m.Image
		case "power_state":
			row[i] = m.PowerState
		case "network":
			row[i] = network
		default:
			cell, err := joinList(cells[c])
			if err != nil {
				return nil, err
			}
			row[i] = cell
		}
	}
	return row, nil
}
