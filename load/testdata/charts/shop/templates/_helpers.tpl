{{/* The chart's name, as charts name things. */}}
{{- define "shop.fullname" -}}
{{- printf "%s-web" .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "shop.labels" -}}
app.kubernetes.io/name: {{ include "shop.fullname" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "shop.serviceAccountName" -}}
{{ .Values.serviceAccount.name }}
{{- end }}

{{- define "shop.podSecurityContext" -}}
runAsNonRoot: false
fsGroup: 2000
{{- end }}
