package hotline_test

import (
	"slices"
	"strings"
	"testing"

	"hotline/internal/hotline"
)

// The policy's handling of 严重 cases: "对实施暴力、情节严重、屡教不改的，应将其
// 表现记入学生综合素质评价，必要时依法转入专门学校就读".
func TestSevereStepsIncludeSpecialSchool(t *testing.T) {
	steps := hotline.StepsFor(hotline.SeveritySevere)
	if !slices.Contains(steps, hotline.StepSpecialSchool) {
		t.Fatalf("severe steps %v lack %s", steps, hotline.StepSpecialSchool)
	}
	l := hotline.StepSpecialSchool.Label()
	if !strings.Contains(l.ZH, "专门学校") || !strings.Contains(strings.ToLower(l.EN), "special school") {
		t.Fatalf("special-school step label %+v", l)
	}
	if !slices.Contains(hotline.Steps, hotline.StepSpecialSchool) || !hotline.StepSpecialSchool.Valid() {
		t.Fatal("the special-school step is not a known step")
	}
	for _, s := range []hotline.Severity{hotline.SeverityMinor, hotline.SeveritySerious} {
		if slices.Contains(hotline.StepsFor(s), hotline.StepSpecialSchool) {
			t.Errorf("%s cases do not call for a special school", s)
		}
	}
}
