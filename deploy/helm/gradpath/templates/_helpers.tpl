{{- define "gradpath.fullname" -}}
{{- printf "%s" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gradpath.labels" -}}
app.kubernetes.io/name: gradpath
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "gradpath.selector" -}}
app.kubernetes.io/name: gradpath
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "gradpath.secretName" -}}
{{- if .Values.existingSecret -}}{{ .Values.existingSecret }}{{- else -}}{{ include "gradpath.fullname" . }}{{- end -}}
{{- end -}}

{{- define "gradpath.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The environment of every gradpath container: the ConfigMap's settings and the Secret's. */}}
{{- define "gradpath.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "gradpath.fullname" . }}
  - secretRef:
      name: {{ include "gradpath.secretName" . }}
env:
  # The Go runtime's soft memory limit follows the container's.
  - name: GOMEMLIMIT
    valueFrom:
      resourceFieldRef:
        resource: limits.memory
{{- end -}}

{{- define "gradpath.securityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}
