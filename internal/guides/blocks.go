package guides

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Block kinds: live data a guide shows where its Markdown has a fenced block of that name,
// with "key: value" lines as its settings.
//
//	```programmes
//	query: tag=apis&level=master
//	limit: 6
//	```
const (
	// BlockProgrammes lists the programmes matching a finder query, with their intakes and
	// whether each takes applications today (query: the finder's parameters; limit).
	BlockProgrammes = "programmes"
	// BlockEligibility is an eligibility snapshot of those programmes: what each asks for.
	BlockEligibility = "eligibility"
	// BlockCosts is the programmes' tuition and the agency's living costs in INR at the
	// current rates.
	BlockCosts = "costs"
	// BlockTimeline is an application's timeline, step by step.
	BlockTimeline = "timeline"
	// BlockDocuments is the document checklist.
	BlockDocuments = "documents"
	// BlockCompare is a comparison table of the programmes.
	BlockCompare = "compare"
	// BlockSalaries is a salary chart (series: top-ten-countries, india-cities or worldwide).
	BlockSalaries = "salaries"
	// BlockRoadmap is a learning roadmap's steps (roadmap: its slug).
	BlockRoadmap = "roadmap"
	// BlockCallback is the callback request form; BlockBooking the link to book a session.
	BlockCallback = "callback"
	BlockBooking  = "booking"
)

// BlockKinds are the blocks a guide can hold.
var BlockKinds = []string{BlockProgrammes, BlockEligibility, BlockCosts, BlockTimeline, BlockDocuments,
	BlockCompare, BlockSalaries, BlockRoadmap, BlockCallback, BlockBooking}

// blockSettings are the settings each block reads.
var blockSettings = map[string][]string{
	BlockProgrammes: {"query", "limit", "title"}, BlockEligibility: {"query", "limit", "title"},
	BlockCosts: {"query", "limit", "title"}, BlockCompare: {"query", "limit", "title"},
	BlockTimeline: {"title"}, BlockDocuments: {"title"}, BlockSalaries: {"series", "title"},
	BlockRoadmap: {"roadmap", "title"}, BlockCallback: {"course", "country", "title"}, BlockBooking: {"title"},
}

// Block is a live block of a guide's body.
type Block struct {
	Kind     string
	Settings map[string]string
	// Line is where the block starts in the body (from 1); Err says what is wrong with it.
	Line int
	Err  string
}

// Query is a block's finder query, parsed.
func (b Block) Query() url.Values {
	q, _ := url.ParseQuery(b.Settings["query"])
	return q
}

// Part is a piece of a guide's body: Markdown text, or a block.
type Part struct {
	Markdown string
	Block    *Block
}

// ParseBody cuts a body into Markdown and blocks. A fence whose info string is not a block
// kind stays Markdown (a code sample).
func ParseBody(body string) []Part {
	var out []Part
	var text []string
	lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	flush := func() {
		if s := strings.Join(text, "\n"); strings.TrimSpace(s) != "" {
			out = append(out, Part{Markdown: s})
		}
		text = nil
	}
	for i := 0; i < len(lines); i++ {
		info, ok := strings.CutPrefix(strings.TrimSpace(lines[i]), "```")
		info = strings.TrimSpace(info)
		if !ok || !slices.Contains(BlockKinds, info) {
			text = append(text, lines[i])
			continue
		}
		flush()
		b := &Block{Kind: info, Settings: map[string]string{}, Line: i + 1}
		closed := false
		for i++; i < len(lines); i++ {
			l := strings.TrimSpace(lines[i])
			if l == "```" {
				closed = true
				break
			}
			if l == "" {
				continue
			}
			k, v, ok := strings.Cut(l, ":")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			switch {
			case !ok:
				b.Err = fmt.Sprintf("%q is not a setting; write key: value", l)
			case !slices.Contains(blockSettings[info], k):
				b.Err = fmt.Sprintf("a %s block has no setting %q; it reads %s", info, k, strings.Join(blockSettings[info], ", "))
			default:
				b.Settings[k] = v
			}
		}
		if !closed {
			b.Err = fmt.Sprintf("the %s block is not closed with ```", info)
		}
		if _, err := url.ParseQuery(b.Settings["query"]); err != nil && b.Err == "" {
			b.Err = "query: write it as the finder's address does (country=AU&level=master)"
		}
		out = append(out, Part{Block: b})
	}
	flush()
	return out
}
