package httpapi

import (
	"net/http"

	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// maxProfileBody bounds an eligibility request: a profile is small.
const maxProfileBody = 64 << 10

func (s *Server) decodeEligibility(w http.ResponseWriter, r *http.Request) (eligibility.Request, error) {
	var req eligibility.Request
	if err := newQuery(r).err(); err != nil {
		return req, err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxProfileBody)
	err := decodeJSON(w, r, &req)
	return req, err
}

func (s *Server) checkEligibility(w http.ResponseWriter, r *http.Request) error {
	req, err := s.decodeEligibility(w, r)
	if err != nil {
		return err
	}
	res, err := s.Eligibility.Match(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, res)
}

func (s *Server) whatIf(w http.ResponseWriter, r *http.Request) error {
	req, err := s.decodeEligibility(w, r)
	if err != nil {
		return err
	}
	res, err := s.Eligibility.WhatIf(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, res)
}

func (s *Server) getRates(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	rates, err := s.Exchange.Rates(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, rates)
}

func (s *Server) putRates(w http.ResponseWriter, r *http.Request) error {
	var rates gradpath.Rates
	if err := decodeJSON(w, r, &rates); err != nil {
		return err
	}
	saved, err := s.Exchange.Put(r.Context(), rates)
	if err != nil {
		return err
	}
	if s.Accounts != nil {
		s.Accounts.Record(r.Context(), actor(r), "exchange_rates.changed", "", map[string]any{"base": saved.Base, "date": saved.Date.String(), "currencies": len(saved.PerUnit)})
	}
	return writeJSON(w, r, http.StatusOK, saved)
}
