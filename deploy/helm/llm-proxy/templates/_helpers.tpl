{{/* Names and labels, as most charts write them. */}}
{{- define "llm-proxy.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "llm-proxy.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "llm-proxy.selectorLabels" -}}
app.kubernetes.io/name: {{ include "llm-proxy.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The serving pods only: never the migrations Job's. */}}
{{- define "llm-proxy.serverSelectorLabels" -}}
{{ include "llm-proxy.selectorLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{- define "llm-proxy.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "llm-proxy.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: llm-proxy
{{- end }}

{{- define "llm-proxy.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{- define "llm-proxy.scaleOut" -}}
{{- if eq .Values.mode "scale-out" }}true{{ end }}
{{- end }}

{{/* Whether the pods serve cleartext HTTP/2 beside HTTP/1.1 (HTTP2_CLEARTEXT). */}}
{{- define "llm-proxy.h2c" -}}
{{- if eq (toString (index .Values.settings "HTTP2_CLEARTEXT" | default "")) "true" }}true{{ end }}
{{- end }}

{{/*
Settings the chart writes from other values, and those that hold secrets: neither belongs in
`settings`. A clear refusal instead of a pod that silently ignores one or a secret in a ConfigMap.
*/}}
{{- define "llm-proxy.checkSettings" -}}
{{- $owned := dict "LISTEN_ADDR" "ports.http" "METRICS_LISTEN_ADDR" "ports.metrics" "DATA_DIR" "persistence (DATA_DIR is /data)" "SHUTDOWN_TIMEOUT_MS" "shutdown.timeoutMs" "SHUTDOWN_DELAY_MS" "shutdown.delayMs" "TLS_CERT_FILE" "tls" "TLS_KEY_FILE" "tls" }}
{{- $secret := list "MANAGEMENT_TOKEN" "ENCRYPTION_KEY" "ENCRYPTION_KEY_PREVIOUS" "DATABASE_URL" "REDIS_URL" "OIDC_CLIENT_SECRET" "SHIPPING_WEBHOOK_SECRET" "OTEL_EXPORTER_OTLP_HEADERS" "SHIPPING_OTLP_LOGS_HEADERS" }}
{{- range $name, $value := .Values.settings }}
{{- if hasKey $owned $name }}
{{- fail (printf "settings.%s: set by the chart from %s; remove it from settings" $name (get $owned $name)) }}
{{- end }}
{{- if has $name $secret }}
{{- fail (printf "settings.%s: a secret, never in values; put it in the Secret %q and name its key in secretEnv (or secretKeys)" $name $.Values.existingSecret) }}
{{- end }}
{{- if hasKey $.Values.secretEnv $name }}
{{- fail (printf "settings.%s: also in secretEnv; keep one" $name) }}
{{- end }}
{{- end }}
{{- if and (gt (int64 .Values.shutdown.preStopSeconds) 0) (semverCompare "<1.30.0-0" .Capabilities.KubeVersion.Version) }}
{{- fail (printf "shutdown.preStopSeconds: the preStop sleep action needs Kubernetes 1.30, this is %s: set shutdown.preStopSeconds: 0 and shutdown.delayMs: 10000" .Capabilities.KubeVersion.Version) }}
{{- end }}
{{- if eq .Values.image.tag "latest" }}
{{- fail "image.tag: name a version, not latest, so that every pod runs the same build" }}
{{- end }}
{{- if and .Values.tls.enabled (include "llm-proxy.h2c" .) }}
{{- fail "settings.HTTP2_CLEARTEXT: not with tls.enabled, which serves HTTP/2 already" }}
{{- end }}
{{- if and .Values.tls.enabled (not .Values.tls.secretName) }}
{{- fail "tls.enabled: needs tls.secretName, a Secret of type kubernetes.io/tls" }}
{{- end }}
{{- end }}

{{/* The settings of every container, as a map: the ConfigMap's data, and the Job's environment. */}}
{{- define "llm-proxy.settings" -}}
{{- include "llm-proxy.checkSettings" . }}
{{- $s := dict "LISTEN_ADDR" (printf ":%v" .Values.ports.http) "METRICS_LISTEN_ADDR" (printf ":%v" .Values.ports.metrics) "DATA_DIR" "/data" "SHUTDOWN_TIMEOUT_MS" (toString (int64 .Values.shutdown.timeoutMs)) }}
{{- if gt (int64 .Values.shutdown.delayMs) 0 }}
{{- $_ := set $s "SHUTDOWN_DELAY_MS" (toString (int64 .Values.shutdown.delayMs)) }}
{{- end }}
{{- if .Values.tls.enabled }}
{{- $_ := set $s "TLS_CERT_FILE" (printf "%s/tls.crt" .Values.tls.mountPath) }}
{{- $_ := set $s "TLS_KEY_FILE" (printf "%s/tls.key" .Values.tls.mountPath) }}
{{- end }}
{{- range $name, $value := .Values.settings }}
{{- /* YAML numbers arrive as floats: 536870912 would be written 5.36870912e+08. */}}
{{- if and (kindIs "float64" $value) (eq $value (float64 (int64 $value))) }}
{{- $value = int64 $value }}
{{- end }}
{{- $_ := set $s $name (toString $value) }}
{{- end }}
{{- toYaml $s }}
{{- end }}

{{/* Every setting that holds a secret, from a key of the existing Secret. */}}
{{- define "llm-proxy.secretEnv" -}}
{{- $keys := dict "MANAGEMENT_TOKEN" .Values.secretKeys.managementToken "ENCRYPTION_KEY" .Values.secretKeys.encryptionKey }}
{{- if include "llm-proxy.scaleOut" . }}
{{- $_ := set $keys "DATABASE_URL" .Values.secretKeys.databaseUrl }}
{{- $_ := set $keys "REDIS_URL" .Values.secretKeys.redisUrl }}
{{- end }}
{{- $keys = merge $keys .Values.secretEnv }}
{{- range $name := keys $keys | sortAlpha }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.existingSecret }}
      key: {{ get $keys $name }}
{{- end }}
{{- end }}

{{/*
How long Kubernetes lets a stopping pod run: the preStop sleep, the delay and the drain (whole
seconds, rounded up), and a margin. Shorter, and a pod being replaced is killed mid-stream.
*/}}
{{- define "llm-proxy.terminationGracePeriodSeconds" -}}
{{- $drainMs := add (int64 .Values.shutdown.delayMs) (int64 .Values.shutdown.timeoutMs) }}
{{- add (int64 .Values.shutdown.preStopSeconds) (div (add $drainMs 999) 1000) (int64 .Values.shutdown.graceMarginSeconds) }}
{{- end }}
