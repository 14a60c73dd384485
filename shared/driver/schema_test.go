package driver_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

func TestCheckOptions(t *testing.T) {
	schema := []driver.ConfigOption{
		{Name: "url", Help: "h", Required: true},
		{Name: "timeout", Type: driver.OptionInteger, Help: "h"},
		{Name: "insecure", Type: driver.OptionBoolean, Help: "h"},
		{Name: "auth_type", Type: driver.OptionChoice, Choices: []string{"none", "password"}, Help: "h"},
		{Name: "password", Help: "h", Secret: true},
		{Name: "pin", Type: driver.OptionInteger, Help: "h", Secret: true},
	}
	tests := map[string]struct {
		options    map[string]string
		wantOption string // "" = accepted
		want       string
	}{
		"every type, good":      {options: map[string]string{"url": "u", "timeout": " 5 ", "insecure": "Yes", "auth_type": "password", "password": "p"}},
		"unknown option":        {options: map[string]string{"url": "u", "colour": "red"}, wantOption: "colour", want: "unknown option (known: auth_type, insecure, password, pin, timeout, url)"},
		"not an integer":        {options: map[string]string{"url": "u", "timeout": "soon"}, wantOption: "timeout", want: `"soon" is not an integer`},
		"not a boolean":         {options: map[string]string{"url": "u", "insecure": "maybe"}, wantOption: "insecure", want: "is not a boolean"},
		"not a choice":          {options: map[string]string{"url": "u", "auth_type": "token"}, wantOption: "auth_type", want: "is not one of none, password"},
		"required missing":      {options: map[string]string{}, wantOption: "url", want: "is required"},
		"secret never echoed":   {options: map[string]string{"url": "u", "pin": "s3cr3t-pin"}, wantOption: "pin", want: "the value is not an integer"},
		"first culprit by name": {options: map[string]string{"url": "u", "timeout": "x", "insecure": "x"}, wantOption: "insecure"},
	}
	if err := driver.CheckOptions(nil, map[string]string{"x": "1"}); !strings.Contains(fmt.Sprint(err), "the driver takes no options") {
		t.Errorf("an option for a driver without options: %v", err)
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := driver.CheckOptions(schema, tc.options)
			if got := driver.OptionOf(err); got != tc.wantOption {
				t.Fatalf("CheckOptions = %v; want an error naming %q", err, tc.wantOption)
			}
			if err == nil {
				return
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error %q echoes a secret", err)
			}
		})
	}
}

func TestCheckSchema(t *testing.T) {
	tests := map[string]struct {
		schema []driver.ConfigOption
		want   string // "" = no problem
	}{
		"good":              {schema: []driver.ConfigOption{{Name: "a", Help: "h", Type: driver.OptionInteger, Default: "3"}}},
		"no name":           {schema: []driver.ConfigOption{{Help: "h"}}, want: "has no name"},
		"twice":             {schema: []driver.ConfigOption{{Name: "a", Help: "h"}, {Name: "a", Help: "h"}}, want: "described twice"},
		"bad name":          {schema: []driver.ConfigOption{{Name: "a b", Help: "h"}}, want: "cannot hold spaces"},
		"unknown type":      {schema: []driver.ConfigOption{{Name: "a", Help: "h", Type: "float"}}, want: `unknown type "float"`},
		"no help":           {schema: []driver.ConfigOption{{Name: "a"}}, want: "no help text"},
		"choice no choices": {schema: []driver.ConfigOption{{Name: "a", Help: "h", Type: driver.OptionChoice}}, want: "without choices"},
		"secret default":    {schema: []driver.ConfigOption{{Name: "a", Help: "h", Secret: true, Default: "x"}}, want: "secret with a default"},
		"bad default":       {schema: []driver.ConfigOption{{Name: "a", Help: "h", Type: driver.OptionBoolean, Default: "perhaps"}}, want: "is not a boolean"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			problems := strings.Join(driver.CheckSchema(tc.schema), "; ")
			if tc.want == "" && problems != "" || !strings.Contains(problems, tc.want) {
				t.Errorf("CheckSchema = %q; want %q", problems, tc.want)
			}
		})
	}
}
