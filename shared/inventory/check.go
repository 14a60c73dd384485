package inventory

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// ironicMask is what Ironic shows in place of a field it hides.
const ironicMask = "******"

// sanitizeKeys are oslo.utils' strutils._SANITIZE_KEYS: Ironic masks a
// driver_info field whose name contains one of them (ignoring case), so
// such a field is a secret and belongs in the secrets file.
var sanitizeKeys = []string{
	"adminpass", "admin_pass", "password", "admin_password", "auth_token", "new_pass", "auth_password",
	"secret_uuid", "secret", "sys_pswd", "token", "configdrive", "chappassword", "encrypted_key",
	"private_key", "fernetkey", "sslkey", "passphrase", "cephclusterfsid", "octaviaheartbeatkey",
	"rabbitcookie", "cephmanilaclientkey", "pacemakerremoteauthkey", "designaterndckey", "cephadminkey",
	"heatauthencryptionkey", "cephclientkey", "keystonecredential", "barbicansimplecryptokek",
	"cephrgwkey", "swifthashsuffix", "migrationsshkey", "cephmdskey", "cephmonkey",
}

// IsSecretField says whether Ironic hides a driver_info field of this name
// (shows it as ******): its value must come from the secrets file.
func IsSecretField(name string) bool {
	lower := strings.ToLower(name)
	for _, k := range sanitizeKeys {
		if strings.Contains(lower, k) {
			return true
		}
	}
	return false
}

// crossCheck applies the rules no schema can say to a machine the schema
// accepted. The errors have Field and Message set; no message holds a
// driver_info value.
func crossCheck(m driver.Machine) Errors {
	var errs Errors
	add := func(field, format string, args ...any) {
		errs = append(errs, &Error{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	for _, k := range sortedKeys(m.DriverInfo) {
		field := displayPath([]string{"driver_info", k})
		switch {
		case slices.Contains(m.Secrets, k):
			// reported below, under secrets
		case IsSecretField(k):
			add(field, "Ironic hides this field: it is a secret, so it goes in the secrets file: list %s under secrets", quote(k))
		case m.DriverInfo[k] == ironicMask:
			add(field, "is Ironic's mask, not a value: list %s under secrets and give it in the secrets file", quote(k))
		}
	}
	for i, s := range m.Secrets {
		if _, ok := m.DriverInfo[s]; ok {
			add(fmt.Sprintf("secrets[%d]", i), "%s is also in driver_info: a secret goes only in the secrets file", quote(s))
		}
	}
	portMACs := map[string]int{}
	for i, p := range m.Ports {
		mac := strings.ToLower(p.MAC)
		if j, ok := portMACs[mac]; ok {
			add(fmt.Sprintf("ports[%d].mac", i), "%s is also ports[%d]'s MAC", quote(p.MAC), j)
		} else {
			portMACs[mac] = i
		}
		if len(p.FixedIPs) > 0 && p.Network == "" {
			add(fmt.Sprintf("ports[%d].fixed_ips", i), "need the port's network (the Neutron network the addresses are on)")
		}
	}
	groupMACs := map[string]int{}
	groupNames := map[string]int{}
	memberOf := map[string]int{}
	for i, g := range m.Portgroups {
		mac := strings.ToLower(g.MAC)
		if j, ok := groupMACs[mac]; ok {
			add(fmt.Sprintf("portgroups[%d].mac", i), "%s is also portgroups[%d]'s MAC", quote(g.MAC), j)
		} else {
			groupMACs[mac] = i
		}
		if g.Name != "" {
			if j, ok := groupNames[strings.ToLower(g.Name)]; ok {
				add(fmt.Sprintf("portgroups[%d].name", i), "%s is also portgroups[%d]'s name", quote(g.Name), j)
			} else {
				groupNames[strings.ToLower(g.Name)] = i
			}
		}
		for k, member := range g.Ports {
			field := fmt.Sprintf("portgroups[%d].ports[%d]", i, k)
			mac := strings.ToLower(member)
			if _, ok := portMACs[mac]; !ok {
				add(field, "%s is no port's MAC: a member must be one of the machine's ports", quote(member))
				continue
			}
			if j, ok := memberOf[mac]; ok && j != i {
				add(field, "%s is also a member of portgroups[%d]: a port is in one portgroup at most", quote(member), j)
				continue
			}
			memberOf[mac] = i
		}
	}
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
