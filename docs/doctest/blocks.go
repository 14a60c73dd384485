package doctest

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Block is one fenced code block of a Markdown document and what its
// doctest comments say about it.
type Block struct {
	// Line is the line of the opening fence, counted from 1.
	Line int
	// Lang is the fence's info string up to the first space ("sh", "ini").
	Lang string
	// Text is the block's content, each line ending in "\n".
	Text string
	// Skip is the reason the block is not run; "" runs it (when Lang is sh).
	Skip string
	// Expect are the strings the block's output must contain.
	Expect []string
	// SameAs is a file, relative to the repository's root, whose content
	// the block must equal.
	SameAs string
	// ExcerptOf is a file, relative to the repository's root, that must
	// contain the block's text.
	ExcerptOf string
}

// Runs reports whether the tests run the block.
func (b Block) Runs() bool { return b.Lang == "sh" && b.Skip == "" }

var (
	directiveRE = regexp.MustCompile(`^<!--\s*doctest:\s*(.*?)\s*-->$`)
	skipRE      = regexp.MustCompile(`^skip \((.+)\)$`)
	expectRE    = regexp.MustCompile(`^expect ("(?:[^"\\]|\\.)*")$`)
	sameAsRE    = regexp.MustCompile(`^same-as (\S+)$`)
	excerptRE   = regexp.MustCompile(`^excerpt-of (\S+)$`)
)

// Parse returns the fenced blocks of a Markdown document with their
// directives. A directive it does not understand, one that no fence
// follows, or a fence that is never closed is an error naming its line.
func Parse(md []byte) ([]Block, error) {
	var (
		blocks  []Block
		pending *Block // directives seen since the last block
		pendAt  int    // line of the first pending directive
		open    *Block
		fence   string
	)
	sc := bufio.NewScanner(bytes.NewReader(md))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if open != nil {
			if strings.TrimSpace(line) == fence {
				blocks = append(blocks, *open)
				open = nil
				continue
			}
			open.Text += line + "\n"
			continue
		}
		if m := directiveRE.FindStringSubmatch(trimmed); m != nil {
			if pending == nil {
				pending, pendAt = &Block{}, n
			}
			if err := pending.apply(m[1]); err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") {
			fence = trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, "`"))]
			b := Block{Line: n}
			if pending != nil {
				b = *pending
				b.Line = n
			}
			b.Lang, _, _ = strings.Cut(strings.TrimSpace(strings.TrimPrefix(trimmed, fence)), " ")
			open, pending = &b, nil
			continue
		}
		if pending != nil {
			return nil, fmt.Errorf("line %d: doctest comment not followed by a code block (found %q)", pendAt, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if open != nil {
		return nil, fmt.Errorf("line %d: code block never closed", open.Line)
	}
	if pending != nil {
		return nil, fmt.Errorf("line %d: doctest comment at the end of the document", pendAt)
	}
	return blocks, nil
}

// apply adds one directive to b.
func (b *Block) apply(d string) error {
	if m := skipRE.FindStringSubmatch(d); m != nil {
		b.Skip = m[1]
		return nil
	}
	if m := expectRE.FindStringSubmatch(d); m != nil {
		s, err := strconv.Unquote(m[1])
		if err != nil {
			return fmt.Errorf("doctest expect %s: %w", m[1], err)
		}
		b.Expect = append(b.Expect, s)
		return nil
	}
	if m := sameAsRE.FindStringSubmatch(d); m != nil {
		b.SameAs = m[1]
		return nil
	}
	if m := excerptRE.FindStringSubmatch(d); m != nil {
		b.ExcerptOf = m[1]
		return nil
	}
	return fmt.Errorf("unknown doctest directive %q: want skip (reason), expect \"text\", same-as path or excerpt-of path", d)
}

// Rewrite maps the absolute paths in a shell block to root: each key of
// paths, where it starts a path (after a space, quote, =, :, (, /, <, > or the start of
// a line), becomes its value.
func Rewrite(text string, paths map[string]string) string {
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, regexp.QuoteMeta(k))
	}
	if len(keys) == 0 {
		return text
	}
	re := regexp.MustCompile(`(?m)(^|[\s"'=:(/<>])(` + strings.Join(keys, "|") + `)([/\s"')]|$)`)
	// ReplaceAll does not see overlapping matches ("/a /b"): repeat until
	// nothing changes.
	for {
		out := re.ReplaceAllStringFunc(text, func(m string) string {
			sub := re.FindStringSubmatch(m)
			return sub[1] + paths[sub[2]] + sub[3]
		})
		if out == text {
			return out
		}
		text = out
	}
}
