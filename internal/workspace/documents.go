package workspace

import (
	"strconv"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// DocumentKind is a document an application needs.
type DocumentKind struct {
	Kind    string `json:"kind"`
	Title   string `json:"title"`
	Purpose string `json:"purpose"`
	// Optional documents help but are not required.
	Optional bool `json:"optional,omitempty"`
}

// Checklist is the seed guide's document list.
var Checklist = []DocumentKind{
	{"passport", "Passport", "Application and visa submission", false},
	{"transcripts", "Academic transcripts", "Eligibility verification", false},
	{"degree", "Degree certificate or provisional", "Final academic proof", false},
	{"sop", "Statement of purpose", "Programme fit, goals, motivation; admissions and scholarship review", false},
	{"english", "English test score report", "Admissions and visa", false},
	{"work-experience", "Work experience letters", "Practical profile support", true},
	{"financial", "Financial documents", "Visa, tuition and living planning", false},
	{"medical-insurance", "Medical report and insurance plan", "Pre-departure and visa preparation", false},
}

// Document statuses.
const (
	DocMissing  = "missing"
	DocUploaded = "uploaded"
	DocVerified = "verified"
	DocRejected = "rejected"
)

// Document is one item of an application's checklist.
type Document struct {
	Kind     string `json:"kind"`
	Title    string `json:"title"`
	Optional bool   `json:"optional,omitempty"`
	Status   string `json:"status"`
	// LibraryID is the document of the student's library this item uses.
	LibraryID string        `json:"library_id,omitempty"`
	FileID    string        `json:"file_id,omitempty"`
	Reason    string        `json:"reason,omitempty"`
	ExpiresOn gradpath.Date `json:"expires_on,omitzero"`
	// Flag warns of a problem, such as a passport that expires before the course ends.
	Flag      string    `json:"flag,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

func checklist() []Document {
	out := make([]Document, len(Checklist))
	for i, k := range Checklist {
		out[i] = Document{Kind: k.Kind, Title: k.Title, Optional: k.Optional, Status: DocMissing}
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }
