package config

import (
	"strings"
	"testing"
)

// TestQuotaMetadataItems: [quota] metadata_items defaults to Nova's 128,
// takes -1 (unlimited) and 0 (no metadata), and refuses anything below -1
// or not an integer, naming the option.
func TestQuotaMetadataItems(t *testing.T) {
	tests := map[string]struct {
		quota   string // the [quota] section's body, "" for none
		want    int
		wantErr string
	}{
		"default":        {want: 128},
		"unlimited":      {quota: "metadata_items = -1\n", want: -1},
		"none":           {quota: "metadata_items = 0\n", want: 0},
		"a number":       {quota: "metadata_items = 5\n", want: 5},
		"below -1":       {quota: "metadata_items = -2\n", wantErr: "[quota] metadata_items: must be -1 (unlimited), 0 (no metadata) or a positive number"},
		"not an integer": {quota: "metadata_items = many\n", wantErr: "[quota] metadata_items"},
		"unknown option": {quota: "instances = 5\n", wantErr: "[quota] instances: unknown option"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			body := "[DEFAULT]\nauth_strategy = noauth\n"
			if tc.quota != "" {
				body += "[quota]\n" + tc.quota
			}
			cfg, err := Load(writeConf(t, body), Overrides{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load error = %v; want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Quota.MetadataItems != tc.want {
				t.Errorf("Quota.MetadataItems = %d; want %d", cfg.Quota.MetadataItems, tc.want)
			}
		})
	}
}
