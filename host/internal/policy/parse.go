package policy

import (
	"fmt"
	"strings"
)

// parse compiles one oslo.policy check string. Rule references are checked
// later, once every rule is known.
func parse(s string) (check, error) {
	toks := tokenize(s)
	if len(toks) == 0 {
		return constCheck(true), nil // "" allows, as in oslo.policy
	}
	p := &parser{toks: toks}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	return c, nil
}

type tokKind int

const (
	tokCheck tokKind = iota
	tokAnd
	tokOr
	tokNot
	tokOpen
	tokClose
)

type token struct {
	kind tokKind
	text string
}

// tokenize splits like oslo.policy: on white space, with parentheses split
// off the start and end of each word.
func tokenize(s string) []token {
	var toks []token
	for _, w := range strings.Fields(s) {
		for strings.HasPrefix(w, "(") {
			toks = append(toks, token{tokOpen, "("})
			w = w[1:]
		}
		closing := 0
		for strings.HasSuffix(w, ")") {
			closing++
			w = w[:len(w)-1]
		}
		if w != "" {
			switch strings.ToLower(w) {
			case "and":
				toks = append(toks, token{tokAnd, w})
			case "or":
				toks = append(toks, token{tokOr, w})
			case "not":
				toks = append(toks, token{tokNot, w})
			default:
				toks = append(toks, token{tokCheck, w})
			}
		}
		for range closing {
			toks = append(toks, token{tokClose, ")"})
		}
	}
	return toks
}

// parser is a recursive-descent parser over the tokens: or of ands of
// (possibly negated) checks or parenthesised expressions.
type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek(k tokKind) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == k
}

func (p *parser) or() (check, error) {
	first, err := p.and()
	if err != nil {
		return nil, err
	}
	list := orCheck{first}
	for p.peek(tokOr) {
		p.pos++
		next, err := p.and()
		if err != nil {
			return nil, err
		}
		list = append(list, next)
	}
	if len(list) == 1 {
		return first, nil
	}
	return list, nil
}

func (p *parser) and() (check, error) {
	first, err := p.not()
	if err != nil {
		return nil, err
	}
	list := andCheck{first}
	for p.peek(tokAnd) {
		p.pos++
		next, err := p.not()
		if err != nil {
			return nil, err
		}
		list = append(list, next)
	}
	if len(list) == 1 {
		return first, nil
	}
	return list, nil
}

func (p *parser) not() (check, error) {
	if p.peek(tokNot) {
		p.pos++
		c, err := p.not()
		if err != nil {
			return nil, err
		}
		return notCheck{c}, nil
	}
	return p.atom()
}

func (p *parser) atom() (check, error) {
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("unexpected end of rule")
	}
	t := p.toks[p.pos]
	p.pos++
	switch t.kind {
	case tokOpen:
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.peek(tokClose) {
			return nil, fmt.Errorf("missing closing parenthesis")
		}
		p.pos++
		return c, nil
	case tokCheck:
		return parseCheck(t.text)
	default:
		return nil, fmt.Errorf("unexpected %q", t.text)
	}
}

// parseCheck compiles one "kind:match" word, "@" or "!".
func parseCheck(w string) (check, error) {
	switch w {
	case "@":
		return constCheck(true), nil
	case "!":
		return constCheck(false), nil
	}
	kind, match, ok := strings.Cut(w, ":")
	if !ok || kind == "" {
		return nil, fmt.Errorf("%q is not a check (kind:match, @ or !)", w)
	}
	tmpl, err := parseTemplate(match)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", w, err)
	}
	switch kind {
	case "rule":
		if len(tmpl.fields) > 0 || match == "" {
			return nil, fmt.Errorf("%q: a rule reference needs a plain rule name", w)
		}
		return ruleCheck(match), nil
	case "role":
		return roleCheck{tmpl}, nil
	case "http", "https":
		return nil, fmt.Errorf("%q: HTTP checks are not supported", w)
	}
	if lit, ok := literal(kind); ok {
		return literalCheck{lit: lit, match: tmpl}, nil
	}
	return genericCheck{cred: kind, match: tmpl}, nil
}

// literal reports whether a check's left side is a Python literal, as
// oslo.policy's ast.literal_eval sees it: a quoted string, True, False,
// None or a number. It returns the literal's string form (Python's str()).
func literal(s string) (string, bool) {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1], true
	}
	switch s {
	case "True", "False", "None":
		return s, true
	}
	if s[0] >= '0' && s[0] <= '9' && strings.Trim(s, "0123456789") == "" {
		return s, true
	}
	return "", false
}

// template is a check's right side: text with %(field)s references to the
// target, Python %-formatting as oslo.policy applies it.
type template struct {
	parts  []string // literal text; parts[i] comes before fields[i]
	fields []string
}

func parseTemplate(s string) (template, error) {
	var t template
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			lit.WriteByte(s[i])
			continue
		}
		rest := s[i+1:]
		switch {
		case strings.HasPrefix(rest, "%"):
			lit.WriteByte('%')
			i++
		case strings.HasPrefix(rest, "("):
			end := strings.Index(rest, ")s")
			if end < 0 {
				return t, fmt.Errorf("bad %%(name)s reference in %q", s)
			}
			t.parts = append(t.parts, lit.String())
			lit.Reset()
			t.fields = append(t.fields, rest[1:end])
			i += end + 2
		default:
			return t, fmt.Errorf("bad %% in %q (use %%%% for a literal %%)", s)
		}
	}
	t.parts = append(t.parts, lit.String())
	return t, nil
}

// expand fills the template from target; ok is false when a field is
// missing, which oslo.policy treats as a failed check.
func (t template) expand(target map[string]string) (string, bool) {
	var b strings.Builder
	for i, f := range t.fields {
		v, ok := target[f]
		if !ok {
			return "", false
		}
		b.WriteString(t.parts[i])
		b.WriteString(v)
	}
	b.WriteString(t.parts[len(t.parts)-1])
	return b.String(), true
}
