package enrich

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/redisx"
	"github.com/sluicehq/sluice/schema"
)

func TestCheckSchema(t *testing.T) {
	// The fields of listing v2 (schema/avsc/listing.v2.avsc) that matter.
	nullable := func(k schema.Kind) *schema.Type {
		return &schema.Type{Kind: schema.Union, Branches: []*schema.Type{{Kind: schema.Null}, {Kind: k}}}
	}
	listing := &schema.Schema{Name: "listing", Version: 2, Fields: []schema.Field{
		{Name: "shop_name", Type: &schema.Type{Kind: schema.String}},
		{Name: "address", Type: nullable(schema.String)},
		{Name: "rating", Type: nullable(schema.Double)},
		{Name: "latitude", Type: nullable(schema.Double)},
		{Name: "longitude", Type: nullable(schema.Double)},
		{Name: "geocode_status", Type: nullable(schema.String)},
	}}
	base := config.Enricher{Name: "geocode", Preset: config.PresetGoogleGeocode, Schema: "listing", Secret: "env:X"}
	tests := []struct {
		name   string
		change func(c *config.Enricher)
		want   string
	}{
		{"preset fits listing", func(*config.Enricher) {}, ""},
		{"unknown mapped field", func(c *config.Enricher) { c.Map = map[string]string{"lattitude": "a.b"} }, `map names "lattitude"`},
		{"unknown key field", func(c *config.Enricher) {
			c.Key = []string{"adress"}
			c.URL = "https://maps.googleapis.com/x?a={adress}&key={secret}"
		}, `key names "adress"`},
		{"status field not a string", func(c *config.Enricher) { c.StatusField = "rating" }, `status_field "rating" must be a nullable string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("X", "k")
			c := base
			tt.change(&c)
			e, _ := newTestEnricher(t, c)
			err := e.CheckSchema(listing)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("CheckSchema = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestNewCacheFromEnv(t *testing.T) {
	t.Setenv(redisx.EnvURL, "")
	if c, err := NewCacheFromEnv(); err != nil || c.(*MemoryCache) == nil {
		t.Fatalf("without REDIS_URL: %T, %v", c, err)
	}
	t.Setenv(redisx.EnvURL, "rediss://cache.example.com:6379")
	c, err := NewCacheFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if rc, ok := c.(*RedisCache); !ok {
		t.Fatalf("with REDIS_URL: %T", c)
	} else {
		rc.Close()
	}
	t.Setenv(redisx.EnvURL, "http://nope")
	if _, err := NewCacheFromEnv(); err == nil {
		t.Fatal("a bad REDIS_URL was accepted")
	}
}
