package graphql

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	gql "github.com/99designs/gqlgen/graphql"

	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/workspace"
)

// ProgrammePage is a page of the finder.
type ProgrammePage struct {
	// found are the page's programmes as the finder answers them, decoded (into items) only
	// when the query asks for them: a query for the total or the facets decodes none.
	found      []catalogue.FoundProgramme
	items      []catalogue.Programme
	decoded    sync.Once
	decodeErr  error
	Total      int
	NextCursor *string
	Facets     catalogue.Facets
	DidYouMean *string
}

// UniversityPage is a page of universities.
type UniversityPage struct {
	Items      []catalogue.University
	Total      int
	NextCursor *string
}

// Student is a student's workspace; each field asks the workspace service, which checks who
// may see it.
type Student struct {
	ID string
}

// Lead is a lead, with its history when it was read alone.
type Lead struct {
	leads.Lead
	History []leads.Activity
}

// LeadReceipt answers a lead request.
type LeadReceipt struct {
	ID               *string
	Kind             *string
	Status           *string
	Merged           bool
	Reopened         bool
	ReceivedAt       *time.Time
	FirstResponseDue *time.Time
	Replayed         bool
}

// BookingReceipt answers a booking request.
type BookingReceipt struct {
	Booking     *booking.Booking
	ManageToken *string
	Replayed    bool
}

// LeadEvent is a change in a lead queue.
type LeadEvent struct {
	Type string
	Lead *Lead
}

// ApplicationEvent is a move of a student's application.
type ApplicationEvent struct {
	Type        string
	Application *workspace.Application
}

// optional is nil for the empty string: GraphQL's null where REST leaves a field out.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// MarshalDate writes a date as 2027-09-15, a month as 2027-09, and no date as null.
func MarshalDate(d gradpath.Date) gql.Marshaler {
	if d.IsZero() {
		return gql.Null
	}
	return gql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(d.String()))
	})
}

// UnmarshalDate reads 2027-09-15 or 2027-09.
func UnmarshalDate(v any) (gradpath.Date, error) {
	s, ok := v.(string)
	var d gradpath.Date
	var err error
	switch {
	case !ok:
		err = fmt.Errorf("a date is a string")
	case len(s) == len("2027-09"):
		d, err = gradpath.ParseMonth(s)
	default:
		d, err = gradpath.ParseDate(s)
	}
	if err != nil {
		return d, gradpath.Errorf(gradpath.CodeInvalid, "%v: give a date as 2027-09-15, or a month as 2027-09", err)
	}
	return d, nil
}

// MarshalJSON writes any value as encoding/json does: the structures REST shows.
func MarshalJSON(v any) gql.Marshaler {
	return gql.WriterFunc(func(w io.Writer) {
		b, err := json.Marshal(v)
		if err != nil {
			_, _ = io.WriteString(w, "null")
			return
		}
		_, _ = w.Write(b)
	})
}

// UnmarshalJSON takes any value as it came.
func UnmarshalJSON(v any) (any, error) { return v, nil }

// The domain's named strings (levels, modes, states, statuses) are GraphQL Strings with the
// REST API's values: each pair below lets gqlgen write and read one of them without a resolver.

// marshalString writes the empty value as null: REST leaves such fields out.
func marshalString[T ~string](v T) gql.Marshaler {
	if v == "" {
		return gql.Null
	}
	return gql.MarshalString(string(v))
}

func unmarshalString[T ~string](v any) (T, error) {
	s, err := gql.UnmarshalString(v)
	return T(s), err
}

// MarshalLevel writes a catalogue.Level.
func MarshalLevel(v catalogue.Level) gql.Marshaler { return marshalString(v) }

// UnmarshalLevel reads a catalogue.Level.
func UnmarshalLevel(v any) (catalogue.Level, error) { return unmarshalString[catalogue.Level](v) }

// MarshalMode writes a catalogue.Mode.
func MarshalMode(v catalogue.Mode) gql.Marshaler { return marshalString(v) }

// UnmarshalMode reads a catalogue.Mode.
func UnmarshalMode(v any) (catalogue.Mode, error) { return unmarshalString[catalogue.Mode](v) }

// MarshalIntakeState writes a catalogue.IntakeState.
func MarshalIntakeState(v catalogue.IntakeState) gql.Marshaler { return marshalString(v) }

// UnmarshalIntakeState reads a catalogue.IntakeState.
func UnmarshalIntakeState(v any) (catalogue.IntakeState, error) {
	return unmarshalString[catalogue.IntakeState](v)
}

// MarshalTuitionBasis writes a catalogue.TuitionBasis.
func MarshalTuitionBasis(v catalogue.TuitionBasis) gql.Marshaler { return marshalString(v) }

// UnmarshalTuitionBasis reads a catalogue.TuitionBasis.
func UnmarshalTuitionBasis(v any) (catalogue.TuitionBasis, error) {
	return unmarshalString[catalogue.TuitionBasis](v)
}

// MarshalApplicationStatus writes a workspace.Status.
func MarshalApplicationStatus(v workspace.Status) gql.Marshaler { return marshalString(v) }

// UnmarshalApplicationStatus reads a workspace.Status.
func UnmarshalApplicationStatus(v any) (workspace.Status, error) {
	return unmarshalString[workspace.Status](v)
}

// MarshalBookingStatus writes a booking.Status.
func MarshalBookingStatus(v booking.Status) gql.Marshaler { return marshalString(v) }

// UnmarshalBookingStatus reads a booking.Status.
func UnmarshalBookingStatus(v any) (booking.Status, error) { return unmarshalString[booking.Status](v) }

// MarshalLeadStatus writes a leads.Status.
func MarshalLeadStatus(v leads.Status) gql.Marshaler { return marshalString(v) }

// UnmarshalLeadStatus reads a leads.Status.
func UnmarshalLeadStatus(v any) (leads.Status, error) { return unmarshalString[leads.Status](v) }

// MarshalLeadKind writes a leads.Kind.
func MarshalLeadKind(v leads.Kind) gql.Marshaler { return marshalString(v) }

// UnmarshalLeadKind reads a leads.Kind.
func UnmarshalLeadKind(v any) (leads.Kind, error) { return unmarshalString[leads.Kind](v) }

// MarshalCheckResult writes an eligibility.Result.
func MarshalCheckResult(v eligibility.Result) gql.Marshaler { return marshalString(v) }

// UnmarshalCheckResult reads an eligibility.Result.
func UnmarshalCheckResult(v any) (eligibility.Result, error) {
	return unmarshalString[eligibility.Result](v)
}

// MarshalRole writes a gradpath.Role.
func MarshalRole(v gradpath.Role) gql.Marshaler { return marshalString(v) }

// UnmarshalRole reads a gradpath.Role.
func UnmarshalRole(v any) (gradpath.Role, error) { return unmarshalString[gradpath.Role](v) }
