// Package cloudformation holds sluice's deployable templates: pipeline.yaml
// (the core stack), collector-alb.yaml and webhook-apigw.yaml. Its tests
// check the templates' security rules, run cfn-lint, and check that the
// templates match the code the Lambdas run (environment, IAM actions).
package cloudformation
