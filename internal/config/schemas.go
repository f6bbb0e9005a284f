package config

import (
	"fmt"

	"github.com/sluicehq/sluice/schema"
)

// Registry loads the schemas the config points at: schemas.dir, or the
// schemas built into sluice.
func (c *Config) Registry() (*schema.Registry, error) {
	if c.Schemas.Dir == "" {
		return schema.Shipped()
	}
	reg, err := schema.LoadDir(c.Resolve(c.Schemas.Dir))
	if err != nil {
		return nil, fmt.Errorf("%s: schemas.dir: %w", c.Path, err)
	}
	return reg, nil
}

// LoadAll reads the config at path and its schemas, and checks that every
// stream and schema the config names exists: what every entry point does
// at start.
func LoadAll(path string) (*Config, *schema.Registry, error) {
	c, err := Load(path)
	if err != nil {
		return nil, nil, err
	}
	if err := c.CheckStreams(); err != nil {
		return nil, nil, err
	}
	reg, err := c.Registry()
	if err != nil {
		return nil, nil, err
	}
	if err := c.CheckSchemas(reg.Has); err != nil {
		return nil, nil, err
	}
	return c, reg, nil
}
