package report

import (
	"bufio"
	"cmp"
	"fmt"
	"github.com/kubegate/kubegate/finding"
	"io"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

// GitHub shows at most this many annotations of each severity per step and
// drops the rest silently.
const githubAnnotationsPerSeverity = 10

// githubItem is one thing to annotate: a finding or an input error.
type githubItem struct {
	sev     finding.Severity
	loc     finding.Location
	title   string
	message string
	line    string // how the log prints it when it is not annotated
}

// writeGitHub writes GitHub Actions workflow commands: the most severe and
// most specific (with a line, then with a file) findings first, input
// errors before findings, at most ten annotations per severity, the tenth
// saying how many more there are when there are more. Everything that is
// not annotated is printed as a plain log line, so the log still holds
// every finding; the job summary (WriteGitHubSummary) lists them all.
func writeGitHub(w io.Writer, r *finding.Report, opts Options) (err error) {
	bw := bufio.NewWriter(w)
	defer func() {
		// go-githubactions panics when it cannot write.
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	a := githubactions.New(githubactions.WithWriter(bw))
	if opts.AnnotatedOn != "" {
		// The check run carries every finding: no workflow commands, so
		// that nothing is annotated twice; the log still lists them.
		a.Group(fmt.Sprintf("kubegate: %s and %s, annotated on the check run %s", noun2(len(r.Findings), "finding"), noun2(len(r.Errors), "input error"), opts.AnnotatedOn))
		for _, e := range r.Errors {
			bw.WriteString(strings.ReplaceAll("error: "+e.Error(), "::", ": :") + "\n")
		}
		for _, f := range r.Findings {
			line := fmt.Sprintf("%s: %s: %s: %s [%s]", f.Severity, f.Location, f.Resource, f.Message, f.Rule)
			if f.Baseline != "" {
				line += " (" + f.Baseline + ")"
			}
			bw.WriteString(strings.ReplaceAll(line, "::", ": :") + "\n")
		}
		a.EndGroup()
		return bw.Flush()
	}
	var items []githubItem
	for _, e := range r.Errors {
		items = append(items, githubItem{
			sev: finding.Error, loc: finding.Location{File: e.File, Line: e.Line}, title: "kubegate: input error", message: e.Message,
			line: "error: " + e.Error(),
		})
	}
	// With a baseline, the annotations are the change's: findings that
	// were there before it are listed in the log only.
	var existing []string
	for _, f := range r.Findings {
		line := fmt.Sprintf("%s: %s: %s: %s [%s]", f.Severity, f.Location, f.Resource, f.Message, f.Rule)
		if f.Baseline == finding.BaselineExisting {
			existing = append(existing, line)
			continue
		}
		items = append(items, githubItem{
			sev: f.Severity, loc: f.Location, title: githubTitle(r, f.Rule), message: findingMessage(f), line: line,
		})
	}
	// Stable: input errors stay first, findings keep their canonical order.
	slices.SortStableFunc(items, func(x, y githubItem) int {
		return cmp.Or(cmp.Compare(y.sev, x.sev), cmp.Compare(specificity(y.loc), specificity(x.loc)))
	})
	var rest []string
	for sev := finding.Error; sev >= finding.Notice; sev-- {
		var these []githubItem
		for _, it := range items {
			if it.sev == sev {
				these = append(these, it)
			}
		}
		shown := these
		if len(these) > githubAnnotationsPerSeverity {
			shown = these[:githubAnnotationsPerSeverity-1]
		}
		for _, it := range shown {
			annotate(a, it)
		}
		if more := len(these) - len(shown); more > 0 {
			word := noun(more, sev.String())
			annotate(a, githubItem{
				sev:     sev,
				title:   fmt.Sprintf("kubegate: %d more %s", more, word),
				message: fmt.Sprintf("%d more %s not annotated here (GitHub shows %d annotations per severity); the job summary and the log of this step list every finding.", more, word, githubAnnotationsPerSeverity),
			})
			for _, it := range these[len(shown):] {
				rest = append(rest, it.line)
			}
		}
	}
	if len(rest) > 0 {
		a.Group(fmt.Sprintf("kubegate: %d findings beyond the annotation limit", len(rest)))
		for _, l := range rest {
			// Printed as data, never as a command: escape a leading "::".
			bw.WriteString(strings.ReplaceAll(l, "::", ": :") + "\n")
		}
		a.EndGroup()
	}
	if len(existing) > 0 {
		a.Group(fmt.Sprintf("kubegate: %d %s there before this change (not annotated)", len(existing), noun(len(existing), "finding")))
		for _, l := range existing {
			bw.WriteString(strings.ReplaceAll(l, "::", ": :") + "\n")
		}
		a.EndGroup()
	}
	return bw.Flush()
}

// specificity ranks locations: a line, a file, nothing.
func specificity(l finding.Location) int {
	switch {
	case l.File != "" && l.Line > 0:
		return 2
	case l.File != "":
		return 1
	}
	return 0
}

func annotate(a *githubactions.Action, it githubItem) {
	fields := map[string]string{"title": it.title}
	if it.loc.File != "" {
		fields["file"] = it.loc.File
		if it.loc.Line > 0 {
			fields["line"] = strconv.Itoa(it.loc.Line)
			fields["endLine"] = strconv.Itoa(it.loc.Line)
			if it.loc.Column > 0 {
				fields["col"] = strconv.Itoa(it.loc.Column)
			}
		}
	}
	a = a.WithFieldsMap(fields)
	switch it.sev {
	case finding.Error:
		a.Errorf("%s", it.message)
	case finding.Warning:
		a.Warningf("%s", it.message)
	default:
		a.Noticef("%s", it.message)
	}
}

// githubTitle is an annotation's title: the rule id and, when known, its
// title.
func githubTitle(r *finding.Report, rule string) string {
	if info, ok := r.Rules[rule]; ok && info.Title != "" {
		return rule + ": " + info.Title
	}
	return rule
}

// findingMessage is a finding's message with its resource and the other
// places it is written.
func findingMessage(f finding.Finding) string {
	return f.Resource.String() + ": " + f.Message + f.AlsoAt()
}

// noun2 is n and word, in the plural unless n is 1.
func noun2(n int, word string) string { return fmt.Sprintf("%d %s", n, noun(n, word)) }

// noun is word, in the plural unless n is 1.
func noun(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// GitHubContext is what the job summary needs to link findings to the
// lines of the commit under test.
type GitHubContext struct {
	ServerURL  string // GITHUB_SERVER_URL
	Repository string // GITHUB_REPOSITORY, owner/name
	SHA        string // GITHUB_SHA
	// RepoPath turns a report path (relative to the working directory)
	// into a path from the repository root; nil means they are the same.
	RepoPath func(string) string
}

// summaryLimit keeps the job summary under GitHub's 1 MiB per step, with
// room for the closing note.
const summaryLimit = 1<<20 - 4096

// WriteGitHubSummary writes the job summary in GitHub-flavoured Markdown:
// the counts, then a table per severity with every finding linked to its
// line in the commit, then the input errors. When the tables would exceed
// GitHub's 1 MiB summary limit, they stop at a row boundary with a note of
// how many findings were left out and where to find them.
func WriteGitHubSummary(w io.Writer, r *finding.Report, ctx GitHubContext) error {
	var b strings.Builder
	verdict := "no findings"
	if n := len(r.Findings); n > 0 {
		verdict = fmt.Sprintf("%d %s", n, noun(n, "finding"))
	}
	bl := r.Summary.BaselineCounts
	if bl != nil {
		verdict = fmt.Sprintf("%d new %s, %d fixed, %d existing", bl.New, noun(bl.New, "finding"), bl.Fixed, bl.Existing)
	}
	fmt.Fprintf(&b, "## kubegate: %s\n\n", verdict)
	fmt.Fprintf(&b, "| resources | images | errors | warnings | notices | inputs not evaluated |\n| ---: | ---: | ---: | ---: | ---: | ---: |\n| %d | %d | %d | %d | %d | %d |\n\n",
		r.Summary.Resources, r.Summary.Images, r.Summary.Error, r.Summary.Warning, r.Summary.Notice, len(r.Errors))
	omitted := 0
	full := false
	add := func(row string) {
		if full || b.Len()+len(row) > summaryLimit {
			full = true
			omitted++
			return
		}
		b.WriteString(row)
	}
	if len(r.Images) > 0 {
		fmt.Fprintf(&b, "### Images (%d)\n\n| image | digest | signature | packages | vulnerabilities | SBOM |\n| --- | --- | --- | ---: | --- | --- |\n", len(r.Images))
		built := ""
		for _, im := range r.Images {
			add(imageRow(im))
			if im.Vulnerabilities != nil {
				built = im.Vulnerabilities.Database
			}
		}
		if built != "" {
			fmt.Fprintf(&b, "\nVulnerabilities: from a grype database built %s.\n", MarkdownCell(built))
		}
		b.WriteString("\n")
	}
	if len(r.Errors) > 0 {
		b.WriteString("### Inputs that could not be evaluated\n\n| where | problem |\n| --- | --- |\n")
		for _, e := range r.Errors {
			add(fmt.Sprintf("| %s | %s |\n", ctx.Link(finding.Location{File: e.File, Line: e.Line}), MarkdownCell(e.Message)))
		}
		b.WriteString("\n")
	}
	table := func(heading string, fs []finding.Finding) {
		if !full {
			fmt.Fprintf(&b, "%s\n\n| where | resource | rule | message |\n| --- | --- | --- | --- |\n", heading)
		}
		for _, f := range fs {
			add(fmt.Sprintf("| %s | %s | `%s` | %s |\n", ctx.Link(f.Location), MarkdownCell(f.Resource.String()), f.Rule, MarkdownCell(f.Message)))
		}
		if !full {
			b.WriteString("\n")
		}
	}
	// With a baseline: what the change introduces first, then what it
	// fixes, then (collapsed) what was there before it.
	var existing []finding.Finding
	for sev := finding.Error; sev >= finding.Notice; sev-- {
		var these []finding.Finding
		for _, f := range r.Findings {
			switch {
			case f.Severity != sev:
			case bl != nil && f.Baseline == finding.BaselineExisting:
				existing = append(existing, f)
			default:
				these = append(these, f)
			}
		}
		if len(these) == 0 {
			continue
		}
		name := strings.ToUpper(sev.String()[:1]) + noun(len(these), sev.String())[1:]
		if bl != nil {
			name = "New " + noun(len(these), sev.String())
		}
		table(fmt.Sprintf("### %s (%d)", name, len(these)), these)
	}
	if bl != nil {
		if len(r.Fixed) > 0 {
			table(fmt.Sprintf("### Fixed (%d)", len(r.Fixed)), r.Fixed)
		}
		if len(existing) > 0 {
			if !full {
				fmt.Fprintf(&b, "<details><summary>Existing findings (%d): there before this change</summary>\n\n", len(existing))
			}
			table("", existing)
			if !full {
				b.WriteString("</details>\n\n")
			}
		}
		writeChanges(&b, r.Changes, add, &full)
	}
	if len(r.Suppressed) > 0 {
		if !full {
			fmt.Fprintf(&b, "### Waived by exceptions (%d)\n\n| where | resource | rule | reason | waived at | expires |\n| --- | --- | --- | --- | --- | --- |\n", len(r.Suppressed))
		}
		for _, x := range r.Suppressed {
			add(fmt.Sprintf("| %s | %s | `%s` | %s | %s | %s |\n", ctx.Link(x.Location), MarkdownCell(x.Resource.String()), x.Rule, MarkdownCell(x.Reason), ctx.Link(x.By), cmp.Or(x.Expires, "never")))
		}
		if !full {
			b.WriteString("\n")
		}
	}
	if omitted > 0 {
		fmt.Fprintf(&b, "\n> [!NOTE]\n> %d more %s not shown: GitHub limits a job summary to 1 MiB. The annotations, the step log and the SARIF or JSON report (`-o sarif=FILE`, `-o json=FILE`) have every finding.\n", omitted, noun(omitted, "row"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeChanges writes the rendered changes, grouped by what rendered them
// (a kustomization, a chart, a file), as tables of field, before and after;
// a Secret's values are never shown.
func writeChanges(b *strings.Builder, cs []finding.Change, add func(string), full *bool) {
	if len(cs) == 0 {
		return
	}
	if !*full {
		fmt.Fprintf(b, "### Rendered changes (%d %s)\n\n", len(cs), noun(len(cs), "resource"))
	}
	unit := "\x00"
	for _, c := range cs {
		if c.Unit != unit {
			unit = c.Unit
			if !*full {
				fmt.Fprintf(b, "\n#### %s\n\n| resource | change | field | before | after |\n| --- | --- | --- | --- | --- |\n", MarkdownCell(cmp.Or(unit, "(input)")))
			}
		}
		res := MarkdownCell(c.Resource.String())
		if len(c.Values) == 0 {
			fields := ""
			if len(c.Fields) > 0 {
				fields = "`" + strings.Join(c.Fields, "`, `") + "`"
			}
			add(fmt.Sprintf("| %s | %s | %s | | |\n", res, c.Change, MarkdownCell(fields)))
			continue
		}
		for _, v := range c.Values {
			before, after := "`"+MarkdownCell(v.Before)+"`", "`"+MarkdownCell(v.After)+"`"
			switch {
			case v.Hidden:
				before, after = "(a Secret's value: hidden)", "(changed)"
			case v.Before == "":
				before = "(none)"
			case v.After == "":
				after = "(removed)"
			}
			add(fmt.Sprintf("| %s | %s | `%s` | %s | %s |\n", res, c.Change, MarkdownCell(v.Field), before, after))
		}
	}
	if !*full {
		b.WriteString("\n")
	}
}

// imageRow is an image's row of the job summary.
func imageRow(im finding.Image) string {
	digest, sig, pkgs := "", "not required", ""
	if im.Digest != "" {
		digest = "`" + im.Digest[:min(len(im.Digest), 19)] + "…`"
	}
	if im.Signed != nil {
		sig = "❌ not signed by a trusted signer"
		if *im.Signed {
			sig = "✅ " + strings.Join(im.Signers, ", ")
		}
	}
	if im.Packages != nil {
		pkgs = fmt.Sprint(*im.Packages)
	}
	if im.NotChecked != "" {
		digest, sig = "not checked: "+im.NotChecked, ""
	}
	return fmt.Sprintf("| `%s` | %s | %s | %s | %s | %s |\n", im.Ref, MarkdownCell(digest), MarkdownCell(sig), pkgs, MarkdownCell(vulnerabilityCell(im.Vulnerabilities)), MarkdownCell(im.SBOM))
}

// vulnerabilityCell is an image's known vulnerabilities by severity
// ("1 critical, 2 medium; 1 set aside by VEX"), "none" or "" (not matched).
func vulnerabilityCell(v *finding.VulnerabilitySummary) string {
	if v == nil {
		return ""
	}
	var parts []string
	for _, sev := range []string{"critical", "high", "medium", "low", "negligible", "unknown"} {
		if n := v.Counts[sev]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, sev))
		}
	}
	out := "none"
	if len(parts) > 0 {
		out = strings.Join(parts, ", ")
	}
	if v.Suppressed > 0 {
		out += fmt.Sprintf("; %d set aside by VEX", v.Suppressed)
	}
	return out
}

// Link is a location as Markdown: a link to the line in the commit when the
// context allows, else the plain location.
func (c GitHubContext) Link(l finding.Location) string {
	if l.File == "" {
		return "(no file)"
	}
	text := MarkdownCell(l.String())
	if c.ServerURL == "" || c.Repository == "" || c.SHA == "" {
		return text
	}
	p := l.File
	if c.RepoPath != nil {
		p = c.RepoPath(p)
	}
	if p == "" || strings.HasPrefix(p, "../") || path.IsAbs(p) {
		return text
	}
	var segs []string
	for _, s := range strings.Split(p, "/") {
		segs = append(segs, url.PathEscape(s))
	}
	u := fmt.Sprintf("%s/%s/blob/%s/%s", strings.TrimSuffix(c.ServerURL, "/"), c.Repository, url.PathEscape(c.SHA), strings.Join(segs, "/"))
	if l.Line > 0 {
		u += "#L" + strconv.Itoa(l.Line)
	}
	return "[" + text + "](" + u + ")"
}

// MarkdownCell makes text safe in a Markdown table cell: no line breaks, no
// column separators, no HTML.
func MarkdownCell(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ", "|", `\|`, "<", "&lt;", ">", "&gt;", "&", "&amp;").Replace(s)
}
