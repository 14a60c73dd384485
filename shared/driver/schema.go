package driver

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// CheckOptions checks a driver's section against the options the driver
// describes: every option known, every value of its type, every required
// option set. The error is an InvalidOption naming the first culprit (in
// name order, so the message is stable), and never quotes a secret's value.
// The host runs it before Configure, so a driver's own checks in Configure
// see only well-typed values; Configure still judges what the schema cannot
// say (options that go together).
func CheckOptions(schema []ConfigOption, options map[string]string) error {
	known := make(map[string]ConfigOption, len(schema))
	for _, o := range schema {
		known[o.Name] = o
	}
	names := make([]string, 0, len(options))
	for name := range options {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		o, ok := known[name]
		if !ok && len(schema) == 0 {
			return InvalidOption(name, "unknown option: the driver takes no options")
		}
		if !ok {
			all := make([]string, 0, len(schema))
			for _, s := range schema {
				all = append(all, s.Name)
			}
			slices.Sort(all)
			return InvalidOption(name, "unknown option (known: %s)", strings.Join(all, ", "))
		}
		if problem := o.check(strings.TrimSpace(options[name])); problem != "" {
			value := fmt.Sprintf("%q", options[name])
			if o.Secret {
				value = "the value"
			}
			return InvalidOption(name, "%s %s", value, problem)
		}
	}
	for _, o := range schema {
		if _, ok := options[o.Name]; o.Required && !ok {
			return InvalidOption(o.Name, "is required")
		}
	}
	return nil
}

// check returns what is wrong with a value of o, or "".
func (o ConfigOption) check(v string) string {
	switch o.Type {
	case OptionInteger:
		if _, err := strconv.Atoi(v); err != nil {
			return "is not an integer"
		}
	case OptionBoolean:
		if _, err := ParseBool(v); err != nil {
			return "is not a boolean (true or false)"
		}
	case OptionChoice:
		if !slices.Contains(o.Choices, v) {
			return "is not one of " + strings.Join(o.Choices, ", ")
		}
	}
	return ""
}

// ParseBool reads a boolean as oslo.config does: true/false, yes/no,
// on/off, 1/0, in any case.
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (true or false)", v)
}

// CheckSchema reports what is wrong with a driver's description of its
// options (the conformance kit runs it): names empty or twice, unknown
// types, missing help, choices without values or a default outside them,
// a default of the wrong type, a secret with a default.
func CheckSchema(schema []ConfigOption) []string {
	var problems []string
	seen := map[string]bool{}
	for i, o := range schema {
		name := o.Name
		if name == "" {
			problems = append(problems, fmt.Sprintf("option %d has no name", i))
			name = fmt.Sprintf("#%d", i)
		}
		if seen[o.Name] && o.Name != "" {
			problems = append(problems, fmt.Sprintf("option %q is described twice", o.Name))
		}
		seen[o.Name] = true
		if strings.ContainsAny(o.Name, " =[]#;") {
			problems = append(problems, fmt.Sprintf("option %q: a name cannot hold spaces, =, [, ], # or ;", o.Name))
		}
		if !slices.Contains([]string{"", OptionString, OptionInteger, OptionBoolean, OptionChoice}, o.Type) {
			problems = append(problems, fmt.Sprintf("option %q: unknown type %q (string, integer, boolean, choice)", name, o.Type))
		}
		if strings.TrimSpace(o.Help) == "" {
			problems = append(problems, fmt.Sprintf("option %q has no help text", name))
		}
		if o.Type == OptionChoice && len(o.Choices) == 0 {
			problems = append(problems, fmt.Sprintf("option %q is a choice without choices", name))
		}
		if o.Secret && o.Default != "" {
			problems = append(problems, fmt.Sprintf("option %q is a secret with a default (it would be printed)", name))
		}
		if o.Default != "" && !o.Secret {
			if p := o.check(o.Default); p != "" {
				problems = append(problems, fmt.Sprintf("option %q: its default %q %s", name, o.Default, p))
			}
		}
	}
	return problems
}
