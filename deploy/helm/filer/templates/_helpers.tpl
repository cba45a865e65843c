{{/* Names, labels and the values several templates derive. */}}

{{- define "filer.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "filer.fullname" -}}
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

{{- define "filer.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "filer.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "filer.selectorLabels" -}}
app.kubernetes.io/name: {{ include "filer.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "filer.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "filer.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "filer.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the pods read FILER_TOKENS (and FILER_REDIS_URL) from. */}}
{{- define "filer.secretName" -}}
{{- default (include "filer.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* FILER_ALLOWED_ROOTS: as configured, or the roots' mount paths joined with ":". */}}
{{- define "filer.allowedRoots" -}}
{{- if .Values.config.FILER_ALLOWED_ROOTS }}
{{- .Values.config.FILER_ALLOWED_ROOTS }}
{{- else }}
{{- $paths := list }}
{{- range .Values.roots }}
{{- $paths = append $paths .mountPath }}
{{- end }}
{{- if not $paths }}
{{- fail "roots: list at least one allowed root (or set config.FILER_ALLOWED_ROOTS)" }}
{{- end }}
{{- join ":" $paths }}
{{- end }}
{{- end }}

{{- define "filer.redisHost" -}}
{{- printf "%s-redis" (include "filer.fullname" .) }}
{{- end }}

{{- define "filer.postgresHost" -}}
{{- printf "%s-postgres" (include "filer.fullname" .) }}
{{- end }}

{{/*
The pod spec shared by the API and the workers. Call with (dict "root" $ "component" NAME
"values" COMPONENT-VALUES "command" APP).
*/}}
{{- define "filer.podSpec" -}}
{{- $root := .root }}
{{- $v := .values }}
{{- $port := include "filer.port" . }}
serviceAccountName: {{ include "filer.serviceAccountName" $root }}
automountServiceAccountToken: false
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
containers:
  - name: {{ .component }}
    image: {{ include "filer.image" $root | quote }}
    imagePullPolicy: {{ $root.Values.image.pullPolicy }}
    args: [{{ .command | quote }}]
    ports:
      - name: http
        containerPort: {{ $port }}
        protocol: TCP
    envFrom:
      - configMapRef:
          name: {{ include "filer.fullname" $root }}
      - secretRef:
          name: {{ include "filer.secretName" $root }}
    {{- with $v.env }}
    env:
      {{- range $name, $value := . }}
      - name: {{ $name }}
        value: {{ toString $value | quote }}
      {{- end }}
    {{- end }}
    {{- with $v.livenessProbe }}
    livenessProbe:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with $v.readinessProbe }}
    readinessProbe:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with $v.startupProbe }}
    startupProbe:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- if $v.preStopSleepSeconds }}
    lifecycle:
      preStop:
        exec:
          command: ["sleep", {{ $v.preStopSleepSeconds | quote }}]
    {{- end }}
    resources:
      {{- toYaml $v.resources | nindent 6 }}
    securityContext:
      {{- toYaml $root.Values.securityContext | nindent 6 }}
    volumeMounts:
      - name: results
        mountPath: {{ required "config.FILER_RESULTS_DIR is required" $root.Values.config.FILER_RESULTS_DIR }}
      - name: tmp
        mountPath: /tmp
      {{- range $root.Values.roots }}
      - name: root-{{ .name }}
        mountPath: {{ .mountPath }}
        readOnly: {{ .readOnly | default false }}
      {{- end }}
volumes:
  - name: results
    {{- include "filer.resultsVolume" $root | trim | nindent 4 }}
  - name: tmp
    emptyDir: {}
  {{- range $root.Values.roots }}
  - name: root-{{ .name }}
    {{- toYaml (omit . "name" "mountPath" "readOnly") | nindent 4 }}
  {{- end }}
{{- with $v.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The port a component listens on: FILER_API_PORT or FILER_WORKER_PORT from its env. */}}
{{- define "filer.port" -}}
{{- if eq .component "api" }}
{{- index .values.env "FILER_API_PORT" | default "8080" }}
{{- else }}
{{- required (printf "%s: env.FILER_WORKER_PORT is required" .component) (index .values.env "FILER_WORKER_PORT") }}
{{- end }}
{{- end }}

{{- define "filer.resultsVolume" -}}
{{- if .Values.config.FILER_RESULTS }}
{{- /* Results on S3: each pod's own scratch (temporary parts, the journals its shards hold open). */}}
emptyDir:
  {{- with .Values.results.scratchSizeLimit }}
  sizeLimit: {{ . }}
  {{- end }}
{{- else if .Values.results.existingClaim }}
persistentVolumeClaim:
  claimName: {{ .Values.results.existingClaim }}
{{- else if .Values.results.persistence.enabled }}
persistentVolumeClaim:
  claimName: {{ include "filer.fullname" . }}-results
{{- else if .Values.results.hostPath }}
hostPath:
  path: {{ .Values.results.hostPath }}
  type: DirectoryOrCreate
{{- else }}
{{- fail "results: set s3, existingClaim, persistence.enabled or hostPath: the API and every worker must share one results store" }}
{{- end }}
{{- end }}
