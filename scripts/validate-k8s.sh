#!/usr/bin/env bash
# Validates the Kubernetes packaging: helm lint --strict, helm template (defaults and every optional
# object on), kubernetes-validate --strict against Kubernetes 1.33 on the rendered chart and on
# manifests/, yamllint, and manifests/ in sync with the chart.
set -euo pipefail
cd "$(dirname "$0")/.."
HELM=$(bash scripts/k8s-tools.sh)
V=.build-tools/venv/bin
"$HELM" lint --strict charts/node-metrics
"$HELM" lint --strict charts/node-metrics --set serviceMonitor.enabled=true,podMonitor.enabled=true,kmsg.enabled=true
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
"$HELM" template nm charts/node-metrics --namespace monitoring --kube-version 1.33.0 > "$T/default.yaml"
"$HELM" template nm charts/node-metrics --namespace monitoring --kube-version 1.33.0 \
  --set serviceMonitor.enabled=true,podMonitor.enabled=true,kmsg.enabled=true,hostNetwork=true > "$T/all.yaml"
# ServiceMonitor/PodMonitor are CRDs: kubernetes-validate has no schema for them and only warns.
"$V/kubernetes-validate" --strict -k 1.33.0 "$T/default.yaml" "$T/all.yaml" manifests/node-metrics.yaml manifests/namespace.yaml
"$V/yamllint" -c .yamllint "$T/default.yaml" "$T/all.yaml" manifests charts/node-metrics/values.yaml charts/node-metrics/Chart.yaml
bash scripts/render-manifests.sh --check
echo "validate-k8s: chart, manifests and YAML all valid"
