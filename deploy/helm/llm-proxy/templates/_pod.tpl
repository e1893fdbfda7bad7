{{/* The serving pod, the same in either mode: the StatefulSet's (single) or the Deployment's (scale-out). */}}
{{- define "llm-proxy.podTemplate" -}}
metadata:
  labels:
    {{- include "llm-proxy.labels" . | nindent 4 }}
    app.kubernetes.io/component: server
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    # A change of settings rolls the pods (a ConfigMap edited in place reaches only pods started later).
    checksum/settings: {{ include "llm-proxy.settings" . | sha256sum }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "llm-proxy.fullname" . }}
  automountServiceAccountToken: false
  # No SERVICE_HOST/PORT variables of every Service in the namespace in the environment.
  enableServiceLinks: false
  terminationGracePeriodSeconds: {{ include "llm-proxy.terminationGracePeriodSeconds" . }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  {{- if and (include "llm-proxy.scaleOut" .) .Values.topologySpread.enabled }}
  topologySpreadConstraints:
    # One pod more on a node than on another at most; the old and new revisions counted apart.
    - maxSkew: 1
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: DoNotSchedule
      labelSelector:
        matchLabels:
          {{- include "llm-proxy.serverSelectorLabels" . | nindent 10 }}
      matchLabelKeys: [pod-template-hash]
    # Over zones where the cluster has them, without refusing to schedule.
    - maxSkew: 1
      topologyKey: topology.kubernetes.io/zone
      whenUnsatisfiable: ScheduleAnyway
      labelSelector:
        matchLabels:
          {{- include "llm-proxy.serverSelectorLabels" . | nindent 10 }}
      matchLabelKeys: [pod-template-hash]
  {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: llm-proxy
      image: {{ include "llm-proxy.image" . }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args: [serve]
      ports:
        - name: http
          containerPort: {{ .Values.ports.http }}
        - name: metrics
          containerPort: {{ .Values.ports.metrics }}
      envFrom:
        - configMapRef:
            name: {{ include "llm-proxy.fullname" . }}
      env:
        {{- include "llm-proxy.secretEnv" . | trim | nindent 8 }}
        {{- with .Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      # Until /live answers once: migrations at start (AUTO_MIGRATE) may take a while.
      startupProbe:
        httpGet:
          path: /live
          port: http
          {{- if .Values.tls.enabled }}
          scheme: HTTPS
          {{- end }}
        periodSeconds: 2
        failureThreshold: 150
      # A database or Redis outage makes a pod unready, never restarts it.
      livenessProbe:
        httpGet:
          path: /live
          port: http
          {{- if .Values.tls.enabled }}
          scheme: HTTPS
          {{- end }}
        periodSeconds: 10
        timeoutSeconds: 5
      # Out of the Service while it cannot serve, and at once when it starts shutting down.
      readinessProbe:
        httpGet:
          path: /ready
          port: http
          {{- if .Values.tls.enabled }}
          scheme: HTTPS
          {{- end }}
        periodSeconds: 5
        timeoutSeconds: 5
        failureThreshold: 2
      {{- if gt (int64 .Values.shutdown.preStopSeconds) 0 }}
      lifecycle:
        # Serving while every node and ingress controller learns that the pod leaves; then SIGTERM
        # drains (SHUTDOWN_TIMEOUT_MS).
        preStop:
          sleep:
            seconds: {{ int64 .Values.shutdown.preStopSeconds }}
      {{- end }}
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      volumeMounts:
        - name: data
          mountPath: /data
        - name: tmp
          mountPath: /tmp
        {{- if .Values.tls.enabled }}
        - name: tls
          mountPath: {{ .Values.tls.mountPath }}
          readOnly: true
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
    {{- if include "llm-proxy.scaleOut" . }}
    # Each pod's own DATA_DIR: the usage journal survives a restart of the container (and is
    # replayed), not the pod's deletion; the database and Redis hold everything shared.
    - name: data
      emptyDir:
        sizeLimit: {{ .Values.scratchDataSizeLimit }}
    {{- end }}
    {{- if .Values.tls.enabled }}
    # Mounted as a directory (no subPath), so that a renewed Secret reaches the pod and is served.
    - name: tls
      secret:
        secretName: {{ .Values.tls.secretName }}
        # 0440, written in decimal: YAML 1.1 and 1.2 parsers read a leading 0 differently.
        defaultMode: 288
    {{- end }}
{{- end }}
