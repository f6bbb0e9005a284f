// Package awsenv builds a Lambda function's AWS configuration from its
// environment, where the Lambda runtime puts the region and the function's
// credentials.
//
// The Lambdas use it instead of config.LoadDefaultConfig, whose credential
// chain (shared profiles, SSO, assume-role, web identity, login, processes,
// EC2 metadata) links the STS, SSO, SSO OIDC and Sign-In clients into every
// binary: 0.4–0.5 MB of each zip, none of it usable inside Lambda. The CLI
// keeps LoadDefaultConfig.
package awsenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"
)

// ErrNoCredentials is returned when the environment holds no access key.
var ErrNoCredentials = errors.New("awsenv: no AWS credentials in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, set by the Lambda runtime)")

// Load returns the configuration config.LoadDefaultConfig would build from
// the same environment variables: the region (AWS_REGION, else
// AWS_DEFAULT_REGION), the access key (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), endpoints (AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_<SERVICE>, AWS_USE_FIPS_ENDPOINT,
// AWS_USE_DUALSTACK_ENDPOINT, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS), retries
// (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE), AWS_CA_BUNDLE, AWS_DEFAULTS_MODE
// (except auto, which asks EC2 metadata), AWS_SDK_UA_APP_ID and the
// compression and checksum settings. Credentials from anywhere else
// (profiles, a container endpoint, web identity) are not looked for:
// without an access key it returns ErrNoCredentials.
func Load(ctx context.Context) (aws.Config, error) {
	env, err := config.NewEnvConfig()
	if err != nil {
		return aws.Config{}, fmt.Errorf("awsenv: %w", err)
	}
	if !env.Credentials.HasKeys() {
		return aws.Config{}, ErrNoCredentials
	}
	if env.DefaultsMode == aws.DefaultsModeAuto {
		return aws.Config{}, errors.New("awsenv: AWS_DEFAULTS_MODE=auto is not supported in the Lambdas: use standard, in-region, cross-region, mobile or legacy")
	}
	cfg := aws.Config{
		Region:        env.Region,
		Logger:        logging.NewStandardLogger(os.Stderr),
		ConfigSources: []any{env},
		Credentials: aws.NewCredentialsCache(credentials.StaticCredentialsProvider{
			Value:  env.Credentials,
			Source: []aws.CredentialSource{aws.CredentialSourceEnvVars},
		}),
		HTTPClient:                  awshttp.NewBuildableClient(),
		RetryMaxAttempts:            env.RetryMaxAttempts,
		RetryMode:                   env.RetryMode,
		DefaultsMode:                env.DefaultsMode,
		AppID:                       env.AppID,
		AccountIDEndpointMode:       env.AccountIDEndpointMode,
		RequestChecksumCalculation:  env.RequestChecksumCalculation,
		ResponseChecksumValidation:  env.ResponseChecksumValidation,
		RequestMinCompressSizeBytes: 10240,
		AuthSchemePreference:        env.AuthSchemePreference,
	}
	if cfg.DefaultsMode == "" {
		cfg.DefaultsMode = aws.DefaultsModeLegacy
	}
	if cfg.AccountIDEndpointMode == "" {
		cfg.AccountIDEndpointMode = aws.AccountIDEndpointModePreferred
	}
	if cfg.RequestChecksumCalculation == 0 {
		cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
	}
	if cfg.ResponseChecksumValidation == 0 {
		cfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenSupported
	}
	if env.RequestMinCompressSizeBytes != nil {
		cfg.RequestMinCompressSizeBytes = *env.RequestMinCompressSizeBytes
	}
	if env.DisableRequestCompression != nil {
		cfg.DisableRequestCompression = *env.DisableRequestCompression
	}
	if env.DisableClockSkewCorrection != nil {
		cfg.DisableClockSkewCorrection = *env.DisableClockSkewCorrection
	}
	if env.BaseEndpoint != "" && (env.IgnoreConfiguredEndpoints == nil || !*env.IgnoreConfiguredEndpoints) {
		cfg.BaseEndpoint = aws.String(env.BaseEndpoint)
	}
	if env.CustomCABundle != "" {
		pem, err := os.ReadFile(env.CustomCABundle)
		if err != nil {
			return aws.Config{}, fmt.Errorf("awsenv: AWS_CA_BUNDLE: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return aws.Config{}, fmt.Errorf("awsenv: AWS_CA_BUNDLE %s: no certificate in it", env.CustomCABundle)
		}
		cfg.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
			if tr.TLSClientConfig == nil {
				tr.TLSClientConfig = &tls.Config{}
			}
			tr.TLSClientConfig.RootCAs = pool
		})
	}
	return cfg, nil
}
