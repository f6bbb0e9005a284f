package awsenv

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
)

// cleanEnv leaves only the given variables of AWS's, with no shared config
// files to read.
func cleanEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	for k, v := range vars {
		t.Setenv(k, v)
	}
}

// In a Lambda's environment, Load builds what config.LoadDefaultConfig
// builds, as far as a client can tell.
func TestLoadMatchesLoadDefaultConfig(t *testing.T) {
	keys := map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token"}
	with := func(m map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range keys {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	cases := map[string]map[string]string{
		"lambda":           with(map[string]string{"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1"}),
		"default region":   with(map[string]string{"AWS_DEFAULT_REGION": "us-west-2"}),
		"endpoint":         with(map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}),
		"service endpoint": with(map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_FIREHOSE": "http://127.0.0.1:5001"}),
		"ignored endpoint": with(map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}),
		"fips":             with(map[string]string{"AWS_REGION": "us-east-1", "AWS_USE_FIPS_ENDPOINT": "true"}),
		"settings": with(map[string]string{
			"AWS_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "7", "AWS_RETRY_MODE": "adaptive",
			"AWS_DEFAULTS_MODE": "standard", "AWS_SDK_UA_APP_ID": "sluice",
			"AWS_REQUEST_CHECKSUM_CALCULATION": "when_required", "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
			"AWS_DISABLE_REQUEST_COMPRESSION": "true", "AWS_REQUEST_MIN_COMPRESSION_SIZE_BYTES": "100",
			"AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
		}),
	}
	for name, vars := range cases {
		t.Run(name, func(t *testing.T) {
			cleanEnv(t, vars)
			ctx := context.Background()
			got, err := Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want, err := config.LoadDefaultConfig(ctx)
			if err != nil {
				t.Fatal(err)
			}
			type view struct {
				Region, AppID                   string
				BaseEndpoint                    *string
				RetryMaxAttempts                int
				RetryMode                       aws.RetryMode
				DefaultsMode                    aws.DefaultsMode
				AccountIDEndpointMode           aws.AccountIDEndpointMode
				RequestChecksum                 aws.RequestChecksumCalculation
				ResponseChecksum                aws.ResponseChecksumValidation
				MinCompress                     int64
				NoCompression, NoSkewCorrection bool
				Key, Secret, Token              string
				ClientEndpoint, ClientRegion    string
				ClientFIPS                      aws.FIPSEndpointState
				ClientAttempts                  int
			}
			see := func(c aws.Config) view {
				creds, err := c.Credentials.Retrieve(ctx)
				if err != nil {
					t.Fatal(err)
				}
				o := firehose.NewFromConfig(c).Options()
				v := view{
					Region: c.Region, AppID: c.AppID, BaseEndpoint: c.BaseEndpoint,
					RetryMaxAttempts: c.RetryMaxAttempts, RetryMode: c.RetryMode, DefaultsMode: c.DefaultsMode,
					AccountIDEndpointMode: c.AccountIDEndpointMode,
					RequestChecksum:       c.RequestChecksumCalculation, ResponseChecksum: c.ResponseChecksumValidation,
					MinCompress: c.RequestMinCompressSizeBytes, NoCompression: c.DisableRequestCompression,
					NoSkewCorrection: c.DisableClockSkewCorrection,
					Key:              creds.AccessKeyID, Secret: creds.SecretAccessKey, Token: creds.SessionToken,
					ClientRegion: o.Region, ClientFIPS: o.EndpointOptions.UseFIPSEndpoint, ClientAttempts: o.RetryMaxAttempts,
				}
				if o.BaseEndpoint != nil {
					v.ClientEndpoint = *o.BaseEndpoint
				}
				return v
			}
			g, w := see(got), see(want)
			if g.BaseEndpoint != nil && w.BaseEndpoint != nil && *g.BaseEndpoint == *w.BaseEndpoint {
				g.BaseEndpoint, w.BaseEndpoint = nil, nil
			}
			if g != w {
				t.Errorf("Load:\n%+v\nLoadDefaultConfig:\n%+v", g, w)
			}
		})
	}
}

func TestLoadRefuses(t *testing.T) {
	cleanEnv(t, map[string]string{"AWS_REGION": "us-east-1"})
	if _, err := Load(context.Background()); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("no keys: %v", err)
	}
	cleanEnv(t, map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_DEFAULTS_MODE": "auto"})
	if _, err := Load(context.Background()); err == nil || !strings.Contains(err.Error(), "auto") {
		t.Errorf("defaults mode auto: %v", err)
	}
	cleanEnv(t, map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_CA_BUNDLE": filepath.Join(t.TempDir(), "missing.pem")})
	if _, err := Load(context.Background()); err == nil || !strings.Contains(err.Error(), "AWS_CA_BUNDLE") {
		t.Errorf("missing CA bundle: %v", err)
	}
}
