package riverkit

import (
	"fmt"
	"regexp"
)

// DefaultTable is the table of the dedupe records unless [WithTable]
// names another.
const DefaultTable = "hookguard_dedupe"

// Option configures [NewStore] and [Migrate]. Give both the same options.
type Option func(*config)

type config struct {
	table string
	err   error
}

func (c *config) invalidOption(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...)
	}
}

var tableRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$`)

// WithTable sets the table of the dedupe records (default
// [DefaultTable]), optionally qualified by a schema ("app.dedupe"). Names
// are plain lower-case identifiers: letters, digits and underscores, not
// starting with a digit.
func WithTable(name string) Option {
	return func(c *config) {
		if !tableRE.MatchString(name) {
			c.invalidOption("WithTable(%q): use a lower-case identifier (letters, digits, underscores, at most 63), optionally schema.table", name)
			return
		}
		c.table = name
	}
}

func newConfig(opts []Option) (config, error) {
	c := config{table: DefaultTable}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c, c.err
}
