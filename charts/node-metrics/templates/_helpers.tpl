{{/* The chart's name. */}}
{{- define "node-metrics.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The full name: release-chart, unless the release is already named after the chart. */}}
{{- define "node-metrics.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "node-metrics.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "node-metrics.labels" -}}
helm.sh/chart: {{ include "node-metrics.chart" . }}
{{ include "node-metrics.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: metrics
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "node-metrics.selectorLabels" -}}
app.kubernetes.io/name: {{ include "node-metrics.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "node-metrics.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "node-metrics.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "node-metrics.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The Secret of the listener's certificate and key. */}}
{{- define "node-metrics.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "node-metrics.fullname" .)) .Values.tls.secretName -}}
{{- end -}}

{{/* The Secret of the client CA bundle (default: the tls Secret, whose ca.crt cert-manager writes). */}}
{{- define "node-metrics.clientCASecretName" -}}
{{- default (include "node-metrics.tlsSecretName" .) .Values.tls.clientCA.secretName -}}
{{- end -}}

{{/* The Secret of the token file. */}}
{{- define "node-metrics.authSecretName" -}}
{{- default (printf "%s-auth" (include "node-metrics.fullname" .)) .Values.auth.secretName -}}
{{- end -}}

{{/* Whether the alerts or the dashboard are on: they need the kubelet's labels on /metrics. */}}
{{- define "node-metrics.kubernetesLabels" -}}
{{- if or .Values.prometheusRule.enabled .Values.dashboards.enabled -}}true{{- end -}}
{{- end -}}

{{/* The Service's DNS name, the name the certificate is for. */}}
{{- define "node-metrics.serviceDNSName" -}}
{{- printf "%s.%s.svc" (include "node-metrics.fullname" .) .Release.Namespace -}}
{{- end -}}

{{/* scheme, tlsConfig and authorization of a ServiceMonitor or PodMonitor endpoint (dict "root" $ "monitor" values). */}}
{{- define "node-metrics.scrapeSecurity" -}}
{{- $root := .root -}}
{{- $monitor := .monitor -}}
{{- if $root.Values.tls.enabled }}
scheme: https
tlsConfig:
  {{- if $monitor.tlsConfig }}
  {{- toYaml $monitor.tlsConfig | nindent 2 }}
  {{- else }}
  ca:
    secret:
      name: {{ include "node-metrics.tlsSecretName" $root }}
      key: ca.crt
  serverName: {{ include "node-metrics.serviceDNSName" $root }}
  {{- end }}
{{- end }}
{{- if $root.Values.auth.enabled }}
authorization:
  {{- if $monitor.authorization }}
  {{- toYaml $monitor.authorization | nindent 2 }}
  {{- else if $root.Values.auth.token }}
  type: Bearer
  credentials:
    name: {{ include "node-metrics.authSecretName" $root }}
    key: {{ $root.Values.auth.key }}
  {{- else }}
  {{- fail "auth.enabled with auth.secretName: set serviceMonitor.authorization / podMonitor.authorization to the token Prometheus sends" }}
  {{- end }}
{{- end }}
{{- end -}}
