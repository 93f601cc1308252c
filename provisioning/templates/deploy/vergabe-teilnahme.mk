# vergabe-teilnahme (RAILIANCE-WP-0002) — added by vergabe-acceptance.
# `make vergabe-deploy` is the single deploy command; DRY_RUN=1 renders it against the
# cluster without changing anything and hides Secrets in the output.
VERGABE_NS ?= vergabe-teilnahme
VERGABE_RELEASE ?= vergabe-teilnahme
VERGABE_CHART ?= charts/vergabe-teilnahme
VERGABE_VALUES ?= helm/vergabe-teilnahme-values.sops.yaml
VERGABE_HELM_FLAGS ?=
HELM ?= helm
SOPS ?= sops
KUBECTL ?= kubectl

.PHONY: vergabe-deploy vergabe-status vergabe-migrate

vergabe-deploy:
	set -o pipefail; $(SOPS) -d $(VERGABE_VALUES) | $(HELM) upgrade --install $(VERGABE_RELEASE) \
	  $(VERGABE_CHART) -n $(VERGABE_NS) -f - \
	  $(if $(DRY_RUN),--dry-run=server --hide-secret,--wait --timeout 5m) $(VERGABE_HELM_FLAGS)

vergabe-status:
	$(HELM) status $(VERGABE_RELEASE) -n $(VERGABE_NS)
	$(KUBECTL) -n $(VERGABE_NS) get deployment,pod,service,ingress,certificate

vergabe-migrate:
	job=$(VERGABE_RELEASE)-migrate-$$(date +%Y%m%d%H%M%S); \
	$(KUBECTL) -n $(VERGABE_NS) create job --from=cronjob/$(VERGABE_RELEASE)-migrate $$job && \
	$(KUBECTL) -n $(VERGABE_NS) wait --for=condition=complete --timeout=300s job/$$job && \
	$(KUBECTL) -n $(VERGABE_NS) logs job/$$job
