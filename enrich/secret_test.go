package enrich

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/sluicehq/sluice/internal/config"
)

type fakeSM struct{ asked []string }

func (f *fakeSM) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.asked = append(f.asked, *in.SecretId)
	if strings.Contains(*in.SecretId, "missing") {
		return nil, errors.New("ResourceNotFoundException")
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String("sm-value")}, nil
}

type fakeSSM struct{ asked []string }

func (f *fakeSSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	f.asked = append(f.asked, *in.Name)
	if !aws.ToBool(in.WithDecryption) {
		return nil, errors.New("want WithDecryption for SecureString parameters")
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Value: aws.String("ssm-value")}}, nil
}

func TestLoadSecret(t *testing.T) {
	t.Setenv("SLUICE_TEST_SECRET", "env-value")
	tests := []struct {
		ref, want, asked string
	}{
		{"secretsmanager:google/api-key", "sm-value", "google/api-key"},
		{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:google-AbCdEf", "sm-value", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:google-AbCdEf"},
		{"ssm:/sluice/google", "ssm-value", "/sluice/google"},
		{"arn:aws:ssm:eu-west-1:123456789012:parameter/sluice/google", "ssm-value", "arn:aws:ssm:eu-west-1:123456789012:parameter/sluice/google"},
		{"env:SLUICE_TEST_SECRET", "env-value", ""},
	}
	for _, tt := range tests {
		sm, ps := &fakeSM{}, &fakeSSM{}
		got, err := loadSecret(context.Background(), tt.ref, sm, ps, nil)
		if err != nil || got != tt.want {
			t.Errorf("%s: %q, %v", tt.ref, got, err)
		}
		asked := strings.Join(append(sm.asked, ps.asked...), ",")
		if asked != tt.asked {
			t.Errorf("%s: asked for %q, want %q", tt.ref, asked, tt.asked)
		}
	}
	if _, err := loadSecret(context.Background(), "secretsmanager:missing", &fakeSM{}, nil, nil); err == nil {
		t.Error("a missing secret loaded")
	}
	if _, err := loadSecret(context.Background(), "env:SLUICE_TEST_UNSET", nil, nil, nil); err == nil {
		t.Error("an unset variable loaded")
	}
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "sluice-transform")
	if _, err := loadSecret(context.Background(), "env:SLUICE_TEST_SECRET", nil, nil, nil); err == nil || !strings.Contains(err.Error(), "local runs only") {
		t.Errorf("env: secret inside Lambda: %v", err)
	}
}

func TestSecretIsLoadedOnceAndSentInHeaders(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization"))
		mu.Unlock()
		writeJSON(w, map[string]any{"name": "x"})
	}))
	defer srv.Close()
	cfg := genericConfig(srv.URL)
	cfg.Secret = "secretsmanager:api"
	cfg.Headers = map[string]string{"Authorization": "Bearer {secret}"}
	sm := &fakeSM{}
	e, _ := newTestEnricher(t, cfg, WithSecrets(sm, nil))
	e.Lookup(context.Background(), []string{keyOf(t, e, "a"), keyOf(t, e, "b")})
	if len(sm.asked) != 1 {
		t.Errorf("secret fetched %d times, want once at New", len(sm.asked))
	}
	if len(got) != 2 || got[0] != "Bearer sm-value" || got[1] != "Bearer sm-value" {
		t.Errorf("Authorization headers: %q", got)
	}
	if _, err := New(context.Background(), func() config.Enricher { c := cfg; c.Secret = "secretsmanager:missing"; return c }(), WithSecrets(&fakeSM{}, nil)); err == nil {
		t.Error("New succeeded without its secret")
	}
}

func TestRedirectToAnotherHostIsNotFollowed(t *testing.T) {
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("followed a redirect to another host: %s", r.URL)
	}))
	defer evil.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evil.URL+"/steal?"+r.URL.RawQuery, http.StatusFound)
	}))
	defer srv.Close()
	e, _ := newTestEnricher(t, genericConfig(srv.URL))
	k := keyOf(t, e, "a")
	if r := e.Lookup(context.Background(), []string{k})[k]; r.Err == nil {
		t.Fatalf("redirect answered %+v, want an error", r)
	}
}

// Without a client, an AWS secret needs a way to load the AWS configuration,
// and its failure is the secret's error.
func TestSecretNeedsAWSConfig(t *testing.T) {
	if _, err := loadSecret(context.Background(), "ssm:/sluice/key", nil, nil, nil); err == nil || !strings.Contains(err.Error(), "WithAWSConfig") {
		t.Errorf("no loader: %v", err)
	}
	failing := func(context.Context) (aws.Config, error) { return aws.Config{}, errors.New("no credentials here") }
	if _, err := loadSecret(context.Background(), "secretsmanager:key", nil, nil, failing); err == nil || !strings.Contains(err.Error(), "no credentials here") {
		t.Errorf("failing loader: %v", err)
	}
}
