package report

import "html/template"

// htmlPage is the head of the page, up to the account sections.
var htmlPage = template.Must(template.New("page").Funcs(template.FuncMap{
	"add": func(a, b int) int { return a + b },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>amiwatermark {{.Command}} across {{.Totals.accounts}} accounts</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#1d2330;max-width:1100px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccd}h3{font-size:1.05em;margin-bottom:.3em}
table{border-collapse:collapse;margin:.3em 0 1em}th,td{border:1px solid #ccd;padding:.25em .6em;text-align:left}
th{background:#eef0f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td{background:#fde8e8}tr.interrupted td,tr.not-started td{background:#fff6dd}
.totals td{font-size:1.2em;font-weight:600}.meta{color:#556}
.charts{display:flex;flex-wrap:wrap;gap:2em}.chart text{font-size:12px;fill:#1d2330}.chart rect{fill:#c0392b}
.warn{background:#fff6dd;padding:.5em 1em;border-left:4px solid #e0a800}
</style>
</head>
<body>
<h1>amiwatermark {{.Command}} across {{.Totals.accounts}} accounts</h1>
<p class="meta">Run by {{.Caller}} at {{.Started}} ({{.Elapsed}}).{{range .Params}} {{.K}}: <code>{{.V}}</code>.{{end}}</p>
{{if .Interrupted}}<p class="warn" id="interrupted">Interrupted: {{.Totals.scopes_unfinished}} account-regions did not finish; the totals count the finished ones only.</p>{{end}}
<h2>Totals</h2>
<table class="totals" id="totals">
<thead><tr>{{range .TotalCols}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody><tr>{{range .TotalVals}}<td class="num" data-total="{{.K}}">{{.N}}</td>{{end}}</tr></tbody>
</table>
<h2>Blocked images</h2>
<div class="charts">
{{range .Charts}}<figure class="chart" id="{{.ID}}"><figcaption>{{.Title}}</figcaption>
{{if .Empty}}<p>None.</p>{{else}}<svg xmlns="http://www.w3.org/2000/svg" width="760" height="{{.Height}}" role="img" aria-label="{{.Title}}">
{{range .Bars}}<g class="bar" data-label="{{.Label}}" data-count="{{.N}}"><text x="0" y="{{.TextY}}">{{.Label}}</text><rect x="230" y="{{.Y}}" width="{{.W}}" height="18"></rect><text x="{{add .W 236}}" y="{{.TextY}}">{{.N}}</text></g>
{{end}}</svg>{{end}}</figure>
{{end}}</div>
{{if .Failures}}<h2>Failed account-regions</h2>
<table id="failures"><thead><tr><th>Account</th><th>Region</th><th>Error</th></tr></thead><tbody>
{{range .Failures}}<tr><td>{{.Account}}</td><td>{{.Region}}</td><td>{{.Error}}</td></tr>
{{end}}</tbody></table>{{end}}
<h2>Accounts</h2>
`))
