package guides

import (
	"strings"
	"testing"
)

func TestParseBody(t *testing.T) {
	body := "Intro.\n\n```go\nfmt.Println(1)\n```\n\n```programmes\nquery: country=AU&level=master\nlimit: 3\n```\nAfter.\n```costs\ncolour: blue\n```\n```callback\n"
	parts := ParseBody(body)
	if len(parts) != 5 {
		t.Fatalf("%d parts: %+v", len(parts), parts)
	}
	if parts[0].Block != nil || !strings.Contains(parts[0].Markdown, "fmt.Println") {
		t.Errorf("a code sample is not kept as Markdown: %+v", parts[0])
	}
	b := parts[1].Block
	if b == nil || b.Kind != BlockProgrammes || b.Err != "" || b.Settings["limit"] != "3" || b.Query().Get("country") != "AU" || b.Line != 7 {
		t.Errorf("the programmes block: %+v", b)
	}
	if parts[2].Markdown != "After." {
		t.Errorf("text after a block: %+v", parts[2])
	}
	if b := parts[3].Block; b == nil || !strings.Contains(b.Err, `no setting "colour"`) {
		t.Errorf("an unknown setting: %+v", b)
	}
	if b := parts[4].Block; b == nil || !strings.Contains(b.Err, "not closed") {
		t.Errorf("an unclosed block: %+v", b)
	}
}
