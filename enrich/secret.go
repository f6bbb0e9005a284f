package enrich

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// SecretsManagerAPI is the part of the Secrets Manager client the enricher
// uses; *secretsmanager.Client satisfies it.
type SecretsManagerAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// ParameterStoreAPI is the part of the SSM client the enricher uses;
// *ssm.Client satisfies it.
type ParameterStoreAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// AWSConfigLoader builds the AWS configuration: config.LoadDefaultConfig in
// the CLI, awsenv.Load in the Lambda (which must not link the former).
type AWSConfigLoader func(context.Context) (aws.Config, error)

func awsConfig(ctx context.Context, load AWSConfigLoader) (aws.Config, error) {
	if load == nil {
		return aws.Config{}, errors.New("no way to load it (enrich.WithAWSConfig)")
	}
	return load(ctx)
}

// envLambda is set by the Lambda runtime; env: secrets are refused there so
// that an API key never sits in a function's plain environment.
const envLambda = "AWS_LAMBDA_FUNCTION_NAME"

// loadSecret resolves a secret reference once, at cold start. Errors never
// contain the secret's value.
// loadAWS gives the AWS configuration for the clients sm or ps when nil.
func loadSecret(ctx context.Context, ref string, sm SecretsManagerAPI, ps ParameterStoreAPI, loadAWS AWSConfigLoader) (string, error) {
	kind, name, _ := strings.Cut(ref, ":")
	if kind == "arn" {
		// arn:partition:service:region:account:...
		if f := strings.SplitN(ref, ":", 4); len(f) == 4 {
			kind, name = f[2], ref
		}
	}
	switch kind {
	case "env":
		if os.Getenv(envLambda) != "" {
			return "", fmt.Errorf("enrich: secret %q: env: secrets are for local runs only; inside Lambda use secretsmanager: or ssm:", ref)
		}
		v := os.Getenv(name)
		if v == "" {
			return "", fmt.Errorf("enrich: secret %q: environment variable %s is empty or unset", ref, name)
		}
		return v, nil
	case "secretsmanager":
		if sm == nil {
			cfg, err := awsConfig(ctx, loadAWS)
			if err != nil {
				return "", fmt.Errorf("enrich: secret %q: AWS config: %w", ref, err)
			}
			sm = secretsmanager.NewFromConfig(cfg)
		}
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
		if err != nil {
			return "", fmt.Errorf("enrich: secret %q: %w", ref, err)
		}
		if out.SecretString == nil || *out.SecretString == "" {
			return "", fmt.Errorf("enrich: secret %q has no SecretString", ref)
		}
		return *out.SecretString, nil
	case "ssm":
		if ps == nil {
			cfg, err := awsConfig(ctx, loadAWS)
			if err != nil {
				return "", fmt.Errorf("enrich: secret %q: AWS config: %w", ref, err)
			}
			ps = ssm.NewFromConfig(cfg)
		}
		out, err := ps.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
		if err != nil {
			return "", fmt.Errorf("enrich: secret %q: %w", ref, err)
		}
		if out.Parameter == nil || out.Parameter.Value == nil || *out.Parameter.Value == "" {
			return "", fmt.Errorf("enrich: secret %q: parameter has no value", ref)
		}
		return *out.Parameter.Value, nil
	}
	return "", fmt.Errorf("enrich: secret %q: want secretsmanager:NAME, ssm:/path, an ARN of either, or env:VAR", ref)
}
