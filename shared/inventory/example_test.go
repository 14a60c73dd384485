package inventory_test

import (
	"fmt"
	"os"

	"github.com/mogan-manage/mogan-manage/shared/inventory"
)

// A CSV inventory: one row per machine; its MACs become ports on its
// network, the fixed IPs pairing with them in order.
func ExampleParse() {
	csv := "name,driver,driver_info,secrets,macs,network,fixed_ips\n" +
		"db-01,ipmi,ipmi_address=10.0.0.11;ipmi_username=admin,ipmi_password,52:54:00:6d:3b:01;52:54:00:6d:3b:02,provisioning,10.20.0.21\n"
	machines, err := inventory.Parse("inventory.csv", []byte(csv))
	if err != nil {
		fmt.Println(err)
		return
	}
	m := machines[0]
	fmt.Println(m.Name, m.Driver, m.DriverInfo["ipmi_address"], m.Secrets)
	for _, p := range m.Ports {
		fmt.Println(p.MAC, p.Network, p.FixedIPs)
	}
	// Output:
	// db-01 ipmi 10.0.0.11 [ipmi_password]
	// 52:54:00:6d:3b:01 provisioning [10.20.0.21]
	// 52:54:00:6d:3b:02 provisioning []
}

// A refusal names the file, the line, the machine and the field.
func ExampleParse_errors() {
	doc := "{\"machines\": [\n  {\"name\": \"db-01\", \"driver\": \"ipmi\",\n   \"ports\": [{\"mac\": \"zz\"}], \"secrets\": [\"ipmi_password\"],\n   \"driver_info\": {\"ipmi_password\": \"x\"}}]}\n"
	_, err := inventory.Parse("inventory.json", []byte(doc))
	fmt.Println(err)
	// Output:
	// inventory.json:2: machine "db-01": ports[0].mac: "zz" is not a MAC address
}

// A machine's secrets: its own entry of the secrets file over "*".
func ExampleSecrets_For() {
	secrets, err := inventory.ParseSecrets("secrets.yaml", []byte("\"*\": {ipmi_password: one}\ndb-02: {ipmi_password: two}\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range []string{"db-01", "db-02"} {
		values, _ := secrets.For(name, []string{"ipmi_password"})
		fmt.Println(name, values, len(values["ipmi_password"]))
	}
	_, err = secrets.For("db-01", []string{"redfish_password"})
	fmt.Fprintln(os.Stdout, err)
	// Output:
	// db-01 map[ipmi_password:******] 3
	// db-02 map[ipmi_password:******] 3
	// machine "db-01": secrets[0]: "redfish_password" has no value: secrets.yaml gives it neither under "db-01" nor under "*"
}
