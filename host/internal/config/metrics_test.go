package config

import (
	"strings"
	"testing"
)

// Where /metrics is served: on the API's port by default, on a listener
// of its own with metrics_port, nowhere with metrics_enabled = false; a
// port that is no port is refused naming the option.
func TestMetricsOptions(t *testing.T) {
	cases := map[string]struct {
		api      string
		enabled  bool
		addr     string
		errorHas string
	}{
		"default: the API's port": {api: "", enabled: true, addr: ""},
		"a port of its own":       {api: "metrics_port = 9100\n", enabled: true, addr: "127.0.0.1:9100"},
		"a port and an address":   {api: "metrics_host_ip = 10.0.0.5\nmetrics_port = 9100\n", enabled: true, addr: "10.0.0.5:9100"},
		"off":                     {api: "metrics_enabled = false\nmetrics_port = 9100\n", enabled: false, addr: ""},
		"not a port":              {api: "metrics_port = 0\n", errorHas: "[api] metrics_port"},
		"not a boolean":           {api: "metrics_enabled = maybe\n", errorHas: "[api] metrics_enabled"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, err := Load(writeConf(t, "[DEFAULT]\nauth_strategy = noauth\n[api]\n"+tc.api), Overrides{})
			if tc.errorHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errorHas) {
					t.Fatalf("Load = %v, want an error naming %s", err, tc.errorHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.API.MetricsEnabled != tc.enabled || cfg.API.MetricsAddr() != tc.addr {
				t.Errorf("metrics_enabled %v, MetricsAddr %q; want %v, %q", cfg.API.MetricsEnabled, cfg.API.MetricsAddr(), tc.enabled, tc.addr)
			}
		})
	}
}
