#!/usr/bin/env bash
# Validates the Kubernetes packaging: helm lint --strict, helm template (defaults and every optional
# object on), kubernetes-validate --strict against Kubernetes 1.33 on the rendered chart and on
# manifests/, yamllint, and manifests/ in sync with the chart. The chart's alerts: promtool check
# rules on files/alerts.yaml and on the rendered PrometheusRule, promtool test rules on
# Tests/chart/alerts.test.yaml; the dashboard: valid JSON whose every expression promtool parses
# (PrometheusDashboardTests runs them against a real Prometheus scraping the agent).
set -euo pipefail
cd "$(dirname "$0")/.."
HELM=$(bash scripts/k8s-tools.sh)
V=.build-tools/venv/bin
"$HELM" lint --strict charts/node-metrics
"$HELM" lint --strict charts/node-metrics --set serviceMonitor.enabled=true,podMonitor.enabled=true,kmsg.enabled=true
SECURED=tls.enabled=true,tls.clientCA.enabled=true,tls.certManager.enabled=true,tls.certManager.issuerRef.name=ca,auth.enabled=true,auth.token=t0ken,prometheusRule.enabled=true,prometheusRule.alertLabels.team=platform
"$HELM" lint --strict charts/node-metrics --set serviceMonitor.enabled=true,podMonitor.enabled=true,$SECURED
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
"$HELM" template nm charts/node-metrics --namespace monitoring --kube-version 1.33.0 > "$T/default.yaml"
"$HELM" template nm charts/node-metrics --namespace monitoring --kube-version 1.33.0 \
  --set serviceMonitor.enabled=true,podMonitor.enabled=true,kmsg.enabled=true,hostNetwork=true > "$T/all.yaml"
"$HELM" template nm charts/node-metrics --namespace monitoring --kube-version 1.33.0 \
  --set serviceMonitor.enabled=true,podMonitor.enabled=true,$SECURED > "$T/secured.yaml"
# The dashboard's ConfigMap on its own (its JSON has lines longer than yamllint allows).
"$HELM" lint --strict charts/node-metrics --set dashboards.enabled=true,dashboards.folder=Kubernetes
"$HELM" template nm charts/node-metrics --namespace monitoring --kube-version 1.33.0 \
  --set dashboards.enabled=true,dashboards.folder=Kubernetes > "$T/dashboard.yaml"
# A Secret of one's own for the tokens, a tlsConfig and authorization of one's own.
"$HELM" template nm charts/node-metrics --namespace monitoring --kube-version 1.33.0 \
  --set serviceMonitor.enabled=true,tls.enabled=true,tls.secretName=mine,auth.enabled=true,auth.secretName=tokens \
  --set serviceMonitor.tlsConfig.insecureSkipVerify=true,serviceMonitor.authorization.credentials.name=prom,serviceMonitor.authorization.credentials.key=token \
  > "$T/own-secrets.yaml"
# Pushing: a storage driver over https with its password and CA from one Secret, and remote write.
PUSH='storage.drivers={influxdb},storage.host=influx:8086,storage.secure=true,storage.passwordSecret.name=push,storage.passwordSecret.caKey=ca.pem,remoteWrite.urls={https://vm:8428/api/v1/write},remoteWrite.secretName=push,remoteWrite.caKey=ca.pem'
"$HELM" lint --strict charts/node-metrics --set "$PUSH"
"$HELM" template nm charts/node-metrics --namespace monitoring --kube-version 1.33.0 --set "$PUSH" > "$T/push.yaml"
for arg in -storage_driver_secure=true -storage_driver_password_file=/etc/node-metrics/storage/password \
           -storage_driver_ca_file=/etc/node-metrics/storage/ca.pem -remote_write_ca_file=/etc/node-metrics/remote-write/ca.pem; do
  grep -q -- "- $arg\$" "$T/push.yaml" || { echo "validate-k8s: the push values did not render $arg" >&2; exit 1; }
done
# statsd with cAdvisor's datagram per line: 0 is a value, not "unset".
"$HELM" template nm charts/node-metrics --set 'storage.drivers={statsd},storage.host=statsd:8125,storage.statsdPacketSize=0' \
  | grep -q -- "- -storage_driver_statsd_packet_size=0\$" || { echo "validate-k8s: storage.statsdPacketSize=0 was not rendered" >&2; exit 1; }
if "$HELM" template nm charts/node-metrics --set 'storage.drivers={statsd}' | grep -q statsd_packet_size; then
  echo "validate-k8s: an unset storage.statsdPacketSize was rendered" >&2; exit 1
fi
# Without a token Prometheus could send, auth must be refused at render time.
if "$HELM" template nm charts/node-metrics --set serviceMonitor.enabled=true,auth.enabled=true,auth.secretName=x >/dev/null 2>&1; then
  echo "auth.secretName without serviceMonitor.authorization should fail" >&2; exit 1
fi
# The alerts: the file, as rendered into the PrometheusRule, and its unit tests.
"$V/python" - "$T/secured.yaml" "$T/rendered-rules.yaml" <<'PY'
import sys, yaml
rule = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "PrometheusRule"][0]
assert all(r["labels"]["team"] == "platform" for g in rule["spec"]["groups"] for r in g["rules"])
yaml.safe_dump(rule["spec"], open(sys.argv[2], "w"))
PY
promtool check rules charts/node-metrics/files/alerts.yaml "$T/rendered-rules.yaml"
promtool test rules Tests/chart/alerts.test.yaml
# The dashboard: JSON, a ConfigMap with the sidecar's label, and every expression (Grafana's
# variables replaced) parsed by promtool as a recording rule.
"$V/python" - "$T/dashboard.yaml" charts/node-metrics/files/dashboard.json "$T/dashboard-rules.yaml" <<'PY'
import json, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
cm = [d for d in docs if d["kind"] == "ConfigMap"][0]
assert cm["metadata"]["labels"]["grafana_dashboard"] == "1" and cm["metadata"]["annotations"]["grafana_folder"] == "Kubernetes"
ds = [d for d in docs if d["kind"] == "DaemonSet"][0]
assert "-prometheus_labels=kubernetes" in ds["spec"]["template"]["spec"]["containers"][0]["args"]
dashboard = json.loads(cm["data"]["node-metrics.json"])
assert dashboard == json.load(open(sys.argv[2]))
exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
for v in dashboard["templating"]["list"]:
    if v["type"] == "query":
        exprs.append(v["query"]["query"].removeprefix("label_values(").rsplit(",", 1)[0])
for name, value in [("$__rate_interval", "1m"), ("$instance", ".*"), ("$namespace", ".*"), ("$pod", ".*")]:
    exprs = [e.replace(name, value) for e in exprs]
rules = [{"record": f"dashboard:expr{i}", "expr": e} for i, e in enumerate(exprs)]
yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(sys.argv[3], "w"))
print(f"dashboard: {len(exprs)} expressions")
PY
promtool check rules "$T/dashboard-rules.yaml"
# ServiceMonitor/PodMonitor are CRDs: kubernetes-validate has no schema for them and only warns.
"$V/kubernetes-validate" --strict -k 1.33.0 "$T/default.yaml" "$T/all.yaml" "$T/secured.yaml" "$T/own-secrets.yaml" "$T/dashboard.yaml" "$T/push.yaml" \
  manifests/node-metrics.yaml manifests/namespace.yaml
"$V/yamllint" -c .yamllint "$T/default.yaml" "$T/all.yaml" "$T/secured.yaml" "$T/own-secrets.yaml" manifests \
  charts/node-metrics/values.yaml charts/node-metrics/Chart.yaml charts/node-metrics/files/alerts.yaml Tests/chart/alerts.test.yaml
bash scripts/render-manifests.sh --check
echo "validate-k8s: chart, manifests and YAML all valid"
