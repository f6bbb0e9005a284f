# sluice: build, package and deploy the Lambdas and stacks.
# `make help` lists the targets; docs/deploy.md explains every variable.

STACK    ?=
BUCKET   ?=
REGION   ?= $(shell aws configure get region 2>/dev/null)
CONFIG   ?= sluice.yaml
PARAMS   ?=
PIPELINE ?= $(STACK)

GO       ?= go
LAMBDAS  := splitter transform
DIST     := dist
# Reproducible zips: fixed timestamps and modes, sorted entries, no extra
# attributes. Same sources, config and Go version give the same bytes.
ZIPTIME  := 198001010000
GOFLAGS_LAMBDA := -tags lambda.norpc -trimpath -ldflags="-s -w"

.PHONY: help build package template pipeline deploy deploy-collector deploy-webhook lint test test-full bench bench-mixed bench-deploy clean

help:
	@echo "make package                  build dist/splitter.zip and dist/transform.zip (arm64, with CONFIG and the schemas)"
	@echo "make template                 dist/stack.yaml: the stack generated from CONFIG (sluice deploy template)"
	@echo "make pipeline                 regenerate cloudformation/pipeline.yaml from sluice.yaml"
	@echo "make deploy STACK=.. BUCKET=..  package, upload and deploy the stack generated from CONFIG (PARAMS='Key=Value ...')"
	@echo "make deploy-collector STACK=.. PIPELINE=.. PARAMS='VpcId=.. PublicSubnetIds=..'"
	@echo "make deploy-webhook STACK=.. PIPELINE=.. [PARAMS='StreamName=webhooks']"
	@echo "make lint                     cfn-lint on every template"
	@echo "make bench                    sluice run side by side with naive Go (scripts/bench-peers.sh)"
	@echo "make bench-mixed              BenchmarkRun against the code before the speed work (scripts/bench-mixed.sh)"
	@echo "make test | test-full | bench-deploy"

build: $(LAMBDAS:%=$(DIST)/%/bootstrap)

$(DIST)/%/bootstrap: FORCE
	@mkdir -p $(@D)
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(GOFLAGS_LAMBDA) -o $@ ./cmd/$*

package: $(LAMBDAS:%=$(DIST)/%.zip)

$(DIST)/%.zip: $(DIST)/%/bootstrap $(CONFIG) FORCE
	@rm -rf $(DIST)/$*/schema $@
	@mkdir -p $(DIST)/$*/schema/avsc
	cp $(CONFIG) $(DIST)/$*/sluice.yaml
	cp schema/avsc/*.avsc $(DIST)/$*/schema/avsc/
	chmod 0755 $(DIST)/$*/bootstrap
	chmod 0644 $(DIST)/$*/sluice.yaml $(DIST)/$*/schema/avsc/*.avsc
	cd $(DIST)/$* && find . -exec env TZ=UTC touch -h -t $(ZIPTIME) {} + && \
		find bootstrap sluice.yaml schema -type f | LC_ALL=C sort | \
		TZ=UTC zip -q -X -D -9 ../$*.zip -@
	@ls -l $@

# The stack is generated from CONFIG: one Firehose stream per stream of the
# config, the notifications of every route. Code: ../dist/*.zip in the
# template resolves against dist/.
template: $(DIST)/stack.yaml

$(DIST)/stack.yaml: $(CONFIG) FORCE
	@mkdir -p $(DIST)
	$(GO) run ./cmd/sluice deploy template -config $(CONFIG) > $@.tmp
	mv $@.tmp $@

pipeline:
	$(GO) run ./cmd/sluice deploy template -config sluice.yaml > cloudformation/pipeline.yaml.tmp
	mv cloudformation/pipeline.yaml.tmp cloudformation/pipeline.yaml

deploy: package $(DIST)/stack.yaml
	@test -n "$(STACK)" || { echo "set STACK=<stack name>"; exit 2; }
	@test -n "$(BUCKET)" || { echo "set BUCKET=<S3 bucket for the Lambda zips, in the stack's region>"; exit 2; }
	@# An existing stack: refuse changes Firehose cannot make to its streams.
	@if aws cloudformation get-template --stack-name $(STACK) --query TemplateBody --output text \
		$(if $(REGION),--region $(REGION)) > $(DIST)/previous.yaml 2>/dev/null; then \
		$(GO) run ./cmd/sluice deploy template -config $(CONFIG) -previous $(DIST)/previous.yaml > /dev/null; fi
	aws cloudformation package \
		--template-file $(DIST)/stack.yaml \
		--s3-bucket $(BUCKET) --s3-prefix $(STACK) \
		--output-template-file $(DIST)/pipeline.packaged.yaml \
		$(if $(REGION),--region $(REGION))
	aws cloudformation deploy \
		--template-file $(DIST)/pipeline.packaged.yaml \
		--stack-name $(STACK) \
		--s3-bucket $(BUCKET) --s3-prefix $(STACK) \
		--capabilities CAPABILITY_IAM \
		--no-fail-on-empty-changeset \
		$(if $(REGION),--region $(REGION)) \
		$(if $(PARAMS),--parameter-overrides $(PARAMS))

deploy-collector:
	@test -n "$(STACK)" || { echo "set STACK=<stack name>"; exit 2; }
	aws cloudformation deploy \
		--template-file cloudformation/collector-alb.yaml \
		--stack-name $(STACK) \
		--no-fail-on-empty-changeset \
		$(if $(REGION),--region $(REGION)) \
		--parameter-overrides PipelineStack=$(PIPELINE) $(PARAMS)

deploy-webhook:
	@test -n "$(STACK)" || { echo "set STACK=<stack name>"; exit 2; }
	aws cloudformation deploy \
		--template-file cloudformation/webhook-apigw.yaml \
		--stack-name $(STACK) \
		--capabilities CAPABILITY_IAM \
		--no-fail-on-empty-changeset \
		$(if $(REGION),--region $(REGION)) \
		--parameter-overrides PipelineStack=$(PIPELINE) $(PARAMS)

lint: $(DIST)/stack.yaml
	cfn-lint cloudformation/*.yaml $(DIST)/stack.yaml

test:
	$(GO) test ./...

test-full:
	SLUICE_FULL=1 $(GO) test -race ./...

bench:
	bash scripts/bench-peers.sh

bench-mixed:
	bash scripts/bench-mixed.sh

bench-deploy:
	$(GO) test -run '^$$' -bench ZipSize -benchtime 1x ./cloudformation
	$(GO) test -run '^$$' -bench ColdStart -benchtime 20x ./cloudformation

clean:
	rm -rf $(DIST)

FORCE:
