package graphql

import (
	"context"
	"fmt"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/roadmap"
	"github.com/gradpath/gradpath/internal/workspace"
)

// The mutations over accounts, document reviews, cost plans, lead privacy, booking hand-overs
// and cohorts. As everywhere here, each calls its domain service with the caller's actor and
// the service decides who may: a student asking to review their own documents or an
// counsellor asking to erase a lead is refused by the rule REST's answer comes from.

func (r *mutationResolver) UpdateMe(ctx context.Context, name string) (*accounts.User, error) {
	u, err := r.d.Accounts.UpdateMe(ctx, actor(ctx), accounts.MeUpdate{Name: &name})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func rolesOf(in []string) []gradpath.Role {
	out := make([]gradpath.Role, len(in))
	for i, s := range in {
		out[i] = gradpath.Role(s)
	}
	return out
}

func (r *mutationResolver) CreateUser(ctx context.Context, in NewUserInput) (*CreatedUser, error) {
	a := actor(ctx)
	out := &CreatedUser{}
	password := deref(in.Password)
	if password == "" {
		password = accounts.GeneratePassword()
		out.InitialPassword = &password
	}
	u, err := r.d.Accounts.CreateUser(ctx, a, in.Email, deref(in.Name), rolesOf(in.Roles), password)
	if err != nil {
		return nil, err
	}
	if c := deref(in.Counsellor); c != "" {
		if u, err = r.d.Accounts.UpdateUser(ctx, a, u.ID, accounts.UserUpdate{Counsellor: &c}); err != nil {
			return nil, err
		}
	}
	out.User = &u
	return out, nil
}

func (r *mutationResolver) UpdateUser(ctx context.Context, id string, c UserChange) (*accounts.User, error) {
	in := accounts.UserUpdate{Name: c.Name, Disabled: c.Disabled, Counsellor: c.Counsellor}
	if c.Roles != nil {
		roles := rolesOf(c.Roles)
		in.Roles = &roles
	}
	u, err := r.d.Accounts.UpdateUser(ctx, actor(ctx), id, in)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func reviewOf(in ReviewInput) workspace.Review {
	return workspace.Review{Status: in.Status, Reason: deref(in.Reason)}
}

func (r *mutationResolver) ReviewLibraryDocument(ctx context.Context, student, id string, review ReviewInput) (*workspace.LibraryDocument, error) {
	ws, err := r.ws()
	if err != nil {
		return nil, err
	}
	d, err := ws.ReviewLibraryDocument(ctx, actor(ctx), student, id, reviewOf(review))
	if err != nil {
		return nil, err
	}
	return &d, nil
}

func (r *mutationResolver) ReviewApplicationDocument(ctx context.Context, student, application, kind string, review ReviewInput) (*workspace.Document, error) {
	ws, err := r.ws()
	if err != nil {
		return nil, err
	}
	d, err := ws.ReviewDocument(ctx, actor(ctx), student, application, kind, reviewOf(review))
	if err != nil {
		return nil, err
	}
	return &d, nil
}

func (r *mutationResolver) SetCosts(ctx context.Context, student *string, application string, items []CostItemInput) (*workspace.CostPlan, error) {
	ws, err := r.ws()
	if err != nil {
		return nil, err
	}
	out := make([]workspace.CostItem, len(items))
	for i, it := range items {
		c := workspace.CostItem{Kind: it.Kind, Label: it.Label, Paid: deref(it.Paid), Auto: deref(it.Auto)}
		if it.Due != nil {
			c.Due = *it.Due
		}
		if it.Amount != nil {
			m, err := gradpath.ParseMoney(it.Amount.Amount, it.Amount.Currency)
			if err != nil {
				return nil, gradpath.Invalid(fmt.Sprintf("items[%d].amount", i), "%s", err)
			}
			c.Amount = &m
		}
		out[i] = c
	}
	plan, err := ws.SetCosts(ctx, actor(ctx), studentOf(ctx, student), application, out)
	if err != nil {
		return nil, err
	}
	return &plan, nil
}

func (r *mutationResolver) leads() (*leads.Service, error) {
	if r.d.Leads == nil {
		return nil, unavailable("leads")
	}
	return r.d.Leads, nil
}

func (r *mutationResolver) MergeLeads(ctx context.Context, into, from string) (*Lead, error) {
	ls, err := r.leads()
	if err != nil {
		return nil, err
	}
	l, err := ls.Merge(ctx, actor(ctx), into, from)
	if err != nil {
		return nil, err
	}
	return &Lead{Lead: l}, nil
}

func (r *mutationResolver) EraseLead(ctx context.Context, id string) (*Lead, error) {
	ls, err := r.leads()
	if err != nil {
		return nil, err
	}
	l, err := ls.Erase(ctx, actor(ctx), id)
	if err != nil {
		return nil, err
	}
	return &Lead{Lead: l}, nil
}

func (r *mutationResolver) WithdrawConsent(ctx context.Context, email, phone, purpose *string) (bool, error) {
	ls, err := r.leads()
	if err != nil {
		return false, err
	}
	if err := r.limitForm(ctx); err != nil {
		return false, err
	}
	err = ls.Withdraw(ctx, actor(ctx), leads.WithdrawInput{Email: deref(email), Phone: deref(phone), Purpose: deref(purpose)})
	return err == nil, err
}

func (r *mutationResolver) ReassignBooking(ctx context.Context, id, counsellorID string) (*booking.Booking, error) {
	if r.d.Booking == nil {
		return nil, unavailable("bookings")
	}
	b, err := r.d.Booking.Reassign(ctx, actor(ctx), id, counsellorID)
	if err != nil {
		return nil, err
	}
	return &b, nil
}

func (r *mutationResolver) CreateCohort(ctx context.Context, in CohortInput) (*roadmap.Cohort, error) {
	if r.d.Roadmaps == nil {
		return nil, unavailable("roadmaps")
	}
	c, err := r.d.Roadmaps.CreateCohort(ctx, actor(ctx), roadmap.CohortInput{Name: in.Name, Roadmap: in.Roadmap, Members: in.Members})
	if err != nil {
		return nil, err
	}
	return &c, nil
}
