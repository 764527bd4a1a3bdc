package httpapi

import "github.com/gradpath/gradpath/internal/edge"

// Problem is the RFC 9457 problem document every error is answered with (the edge's), named
// here for the OpenAPI document.
type Problem = edge.Problem
