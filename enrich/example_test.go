package enrich_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/sluicehq/sluice/enrich"
	"github.com/sluicehq/sluice/internal/config"
)

func ExampleEnricher_Lookup() {
	// A stand-in for the Google Geocoding API.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("address") == "Alexanderplatz 1, Berlin" {
			fmt.Fprint(w, `{"status":"OK","results":[{"geometry":{"location":{"lat":52.5219,"lng":13.4132}}}]}`)
			return
		}
		fmt.Fprint(w, `{"status":"ZERO_RESULTS","results":[]}`)
	}))
	defer api.Close()

	e, err := enrich.New(context.Background(), config.Enricher{
		Name:   "geocode",
		Preset: config.PresetGoogleGeocode,
		Schema: "listing",
		URL:    api.URL + "/maps/api/geocode/json?address={address}",
	})
	if err != nil {
		panic(err)
	}
	records := []map[string]string{
		{"address": "Alexanderplatz 1, Berlin"},
		{"address": "Nowhere 0"},
		{"address": "Alexanderplatz 1, Berlin"},
		{"shop_name": "no address"},
	}
	var keys []string
	for _, rec := range records {
		if k, ok := e.Key(func(f string) (string, bool) { v, ok := rec[f]; return v, ok }); ok {
			keys = append(keys, k)
		} else {
			fmt.Println(e.StatusField(), "=", enrich.StatusNoKey)
		}
	}
	results := e.Lookup(context.Background(), keys)
	fmt.Println(len(keys), "keys,", len(results), "distinct")
	for _, k := range keys[:2] {
		r := results[k]
		fmt.Println(r.Status, r.Found, r.Fields["latitude"], r.Fields["longitude"])
	}
	// Output:
	// geocode_status = NO_KEY
	// 3 keys, 2 distinct
	// OK true 52.5219 13.4132
	// ZERO_RESULTS false <nil> <nil>
}
