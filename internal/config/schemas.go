package config

import (
	"fmt"

	"github.com/sluicehq/sluice/schema"
)

// Registry loads the schemas the config points at (schemas.dir, or the
// schemas built into sluice) and adds each rollup's generated schema.
func (c *Config) Registry() (*schema.Registry, error) {
	var reg *schema.Registry
	var err error
	if c.Schemas.Dir == "" {
		reg, err = schema.Shipped()
	} else if reg, err = schema.LoadDir(c.Resolve(c.Schemas.Dir)); err != nil {
		return nil, fmt.Errorf("%s: schemas.dir: %w", c.Path, err)
	}
	if err != nil {
		return nil, err
	}
	if err := c.AddRollupSchemas(reg); err != nil {
		return nil, err
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

// AddRollupSchemas adds each rollup route's generated schema to reg.
func (c *Config) AddRollupSchemas(reg *schema.Registry) error {
	for i, r := range c.Routes {
		if r.Rollup == nil {
			continue
		}
		key := fmt.Sprintf("routes[%d].rollup.name", i)
		if reg.Has(r.Rollup.Name) {
			return c.errf(key, "%q is also a schema's name; a rollup's schema is generated, so rename the rollup", r.Rollup.Name)
		}
		s, err := schema.Parse(r.Rollup.Name, 1, r.RollupSchema())
		if err != nil {
			return c.errf(key, "generated schema: %v", err)
		}
		if err := reg.Add(s); err != nil {
			return c.errf(key, "%v", err)
		}
	}
	return nil
}
