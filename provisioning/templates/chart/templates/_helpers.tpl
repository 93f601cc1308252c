{{- define "vergabe.labels" -}}
app.kubernetes.io/name: vergabe-teilnahme
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
railiance.io/provisioned-by: vergabe-acceptance
{{- end }}
{{- define "vergabe.selector" -}}
app.kubernetes.io/name: vergabe-teilnahme
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: web
{{- end }}
{{- define "vergabe.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end }}
{{- define "vergabe.podSpecCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  runAsNonRoot: true
{{- end }}
{{- define "vergabe.envFrom" -}}
env:
{{- range $key, $value := .Values.env }}
  - name: {{ $key }}
    value: {{ $value | quote }}
{{- end }}
  - name: ALLOWED_HOSTS
    value: {{ .Values.host | quote }}
  - name: CSRF_TRUSTED_ORIGINS
    value: {{ .Values.csrfTrustedOrigins | default (printf "https://%s" .Values.host) | quote }}
envFrom:
  - secretRef:
      name: {{ .Release.Name }}-env
{{- end }}
