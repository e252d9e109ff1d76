package evaluate

// Violations to findings: decoding what a rule produced (message, path,
// Pod Security version ranges, other resources), located on the source
// line, and severities by Pod Security mode.

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/load"
)

// pssViolation is one violation of a Pod Security check, before the
// violations of a check in one resource become one finding.
type pssViolation struct {
	sev     finding.Severity
	msg     string
	path    load.Path
	loc     finding.Location
	related []finding.Location
}

// resourceKey is how data.kubegate.resources keys a resource.
type resourceKey struct{ kind, namespace, name string }

// lookupResource reads a violation's reference to another resource of the
// run, {"kind", "namespace", "name"}.
func lookupResource(v any, byID map[resourceKey]*load.Resource) (*load.Resource, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	kind, _ := m["kind"].(string)
	ns, _ := m["namespace"].(string)
	name, _ := m["name"].(string)
	r, ok := byID[resourceKey{kind, ns, name}]
	return r, ok
}

// evaluateOne evaluates the rules of r's kind group with r as input. A
// violation is {"msg", "path"} with, optionally:
//   - "versions": [lo, hi], the Kubernetes minors for which a Pod Security
//     violation holds;
//   - "resource": {"kind", "namespace", "name"} of another resource of the
//     run that the finding is about and that path belongs to, for
//     cross-resource rules whose fix lies elsewhere (an HPA's metric that
//     needs a request in the Deployment it scales);
//   - "related": [{"path", "resource"?}], further places the author should
//     see, in the input (or the named resource).
func (e *Engine) evaluateOne(ctx context.Context, eval func(context.Context, *ast.Term) (ast.Set, error), r *load.Resource, input *ast.Term, nsModes map[string]PSSModes, byID map[resourceKey]*load.Resource) (findings []finding.Finding, errs []finding.InputError) {
	id := r.ID()
	fail := func(msg string) {
		loc := r.Locate(nil)
		errs = append(errs, finding.InputError{File: loc.File, Line: loc.Line, Message: fmt.Sprintf("%s: %s", id, msg)})
	}
	defer func() {
		if p := recover(); p != nil {
			fail(fmt.Sprintf("internal error while evaluating policies (please report it): %v", p))
		}
	}()
	if input == nil {
		_, err := ast.InterfaceToValue(r.Object)
		fail(fmt.Sprint(err))
		return nil, errs
	}
	ectx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	set, err := eval(ectx, input)
	if err != nil {
		if ectx.Err() != nil && ctx.Err() == nil {
			fail(fmt.Sprintf("evaluating policies took longer than %v and was stopped: a policy loops over a huge set or builds a huge value (%v)", e.opts.Timeout, err))
		} else {
			fail("evaluating policies: " + err.Error())
		}
		return nil, errs
	}
	if set == nil {
		return nil, nil
	}
	modes, ok := nsModes[id.Namespace]
	if !ok {
		modes = e.opts.PSS
	}
	exempt := e.pssExempt(r, id)
	pss := map[*Rule][]pssViolation{}
	one := func(pkg string, rule *Rule, x *ast.Term) {
		v, _ := x.Value.(ast.Object)
		var msg string
		if t := field(v, "msg"); t != nil {
			if s, ok := t.Value.(ast.String); ok {
				msg = string(s)
			}
		}
		if s, ok := x.Value.(ast.String); ok && rule != nil && !strings.HasSuffix(rule.Query, ".violations") {
			msg, v = string(s), nil // conftest-style: the message itself
		}
		if rule == nil || msg == "" {
			where := pkg
			if rule != nil {
				where = fmt.Sprintf("%s (%s, package %s)", rule.ID, rule.File, rule.Package)
			}
			fail(fmt.Sprintf("rule %s returned a violation without a msg: %v", where, toInterface(x)))
			return
		}
		path := termPath(field(v, "path"))
		if rule.Level != Privileged {
			if exempt {
				return
			}
			versions := toInterface(field(v, "versions"))
			lo, hi, ok := versionRange(versions)
			if !ok {
				fail(fmt.Sprintf("policy %s returned a violation whose versions is not [lo, hi]: %v", pkg, versions))
				return
			}
			if sev := e.pss.severity(rule, modes, lo, hi); sev != finding.SeverityNone {
				loc, related := r.Where(path)
				pss[rule] = append(pss[rule], pssViolation{sev: sev, msg: msg, path: path, loc: loc, related: related})
			}
			return
		}
		subject := r
		if t := field(v, "resource"); t != nil {
			ref := toInterface(t)
			if subject, ok = lookupResource(ref, byID); !ok {
				fail(fmt.Sprintf("policy %s returned a violation about a resource that is not in the input: %v", pkg, ref))
				return
			}
		}
		severity := rule.Severity
		if t := field(v, "severity"); t != nil {
			// A rule may grade its own violations (images.vulnerability's
			// notices below the threshold).
			s, _ := t.Value.(ast.String)
			sev, err := finding.ParseSeverity(string(s), false)
			if err != nil || sev == finding.SeverityNone {
				fail(fmt.Sprintf("rule %s returned a violation whose severity is not error, warning or notice: %v", rule.ID, t))
				return
			}
			severity = sev
		}
		var tags []string
		if ts, ok := toInterface(field(v, "tags")).([]any); ok {
			for _, t := range ts {
				if s, ok := t.(string); ok {
					tags = append(tags, s)
				}
			}
		}
		loc, also := subject.Where(path)
		f := finding.Finding{
			Rule:     rule.ID,
			Severity: severity,
			Message:  msg,
			Resource: subject.ID(),
			Field:    path.String(),
			Location: loc,
			Related:  also,
			Tags:     tags,
		}
		related, _ := toInterface(field(v, "related")).([]any)
		for _, x := range related {
			rel, _ := x.(map[string]any)
			at := r
			if ref, ok := rel["resource"]; ok {
				if at, ok = lookupResource(ref, byID); !ok {
					continue
				}
			}
			if loc := at.Locate(toPath(rel["path"])); loc != f.Location && !slices.Contains(f.Related, loc) {
				f.Related = append(f.Related, loc)
			}
		}
		findings = append(findings, f)
	}
	set.Foreach(func(x *ast.Term) {
		pair, _ := x.Value.(*ast.Array)
		if pair == nil || pair.Len() != 2 {
			return
		}
		pkg, _ := pair.Elem(0).Value.(ast.String)
		one(string(pkg), e.byPkg[string(pkg)], pair.Elem(1))
	})
	for rule, vs := range pss {
		findings = append(findings, mergePSS(rule, id, vs))
	}
	return findings, errs
}

// mergePSS makes the violations of one Pod Security check in one resource
// one finding, as the admission controller gives one verdict per check: at
// the highest severity, located at the first place written, the other
// places as related locations, every message kept.
func mergePSS(rule *Rule, id finding.Resource, vs []pssViolation) finding.Finding {
	slices.SortStableFunc(vs, func(a, b pssViolation) int {
		return cmp.Or(cmp.Compare(b.sev, a.sev), strings.Compare(a.loc.File, b.loc.File), cmp.Compare(a.loc.Line, b.loc.Line), cmp.Compare(a.loc.Column, b.loc.Column), strings.Compare(a.msg, b.msg))
	})
	f := finding.Finding{Rule: rule.ID, Severity: vs[0].sev, Resource: id, Field: vs[0].path.String(), Location: vs[0].loc}
	var msgs []string
	for i, v := range vs {
		if !slices.Contains(msgs, v.msg) {
			msgs = append(msgs, v.msg)
		}
		if i > 0 && v.loc != f.Location && !slices.Contains(f.Related, v.loc) {
			f.Related = append(f.Related, v.loc)
		}
	}
	// Then the places behind each (the template line of a value a chart
	// copied from its values).
	for _, v := range vs {
		for _, l := range v.related {
			if l != f.Location && !slices.Contains(f.Related, l) {
				f.Related = append(f.Related, l)
			}
		}
	}
	f.Message = strings.Join(msgs, "; ")
	return f
}

// versionRange reads a violation's optional versions: [lo, hi].
func versionRange(v any) (lo, hi int, ok bool) {
	if v == nil {
		return 0, 9999, true
	}
	arr, _ := v.([]any)
	if len(arr) != 2 {
		return 0, 0, false
	}
	p := toPath(arr)
	if len(p) != 2 {
		return 0, 0, false
	}
	lo, ok1 := p[0].(int)
	hi, ok2 := p[1].(int)
	return lo, hi, ok1 && ok2 && lo <= hi
}

// field returns the value of key in a violation, nil when absent.
func field(v ast.Object, key string) *ast.Term {
	if v == nil {
		return nil
	}
	return v.Get(ast.InternedTerm(key))
}

// toInterface converts a policy's value to Go as OPA's results are (numbers
// as json.Number); nil for nil.
func toInterface(t *ast.Term) any {
	if t == nil {
		return nil
	}
	x, err := ast.JSON(t.Value)
	if err != nil {
		return nil
	}
	return x
}

// termPath is toPath for a path as OPA gives it.
func termPath(t *ast.Term) load.Path {
	var arr *ast.Array
	if t != nil {
		arr, _ = t.Value.(*ast.Array)
	}
	if arr == nil {
		return make(load.Path, 0)
	}
	p := make(load.Path, 0, arr.Len())
	arr.Foreach(func(x *ast.Term) {
		switch s := x.Value.(type) {
		case ast.String:
			p = append(p, string(s))
		case ast.Number:
			if i, err := json.Number(s).Int64(); err == nil {
				p = append(p, int(i))
			}
		}
	})
	return p
}

// toPath reads a policy's field path: strings and integer indices.
func toPath(v any) load.Path {
	arr, _ := v.([]any)
	p := make(load.Path, 0, len(arr))
	for _, s := range arr {
		switch s := s.(type) {
		case string:
			p = append(p, s)
		case json.Number:
			if i, err := s.Int64(); err == nil {
				p = append(p, int(i))
			}
		case float64:
			p = append(p, int(s))
		case int:
			p = append(p, s)
		case int64:
			p = append(p, int(s))
		}
	}
	return p
}
