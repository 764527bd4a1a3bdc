package graphql

import (
	"context"

	gql "github.com/99designs/gqlgen/graphql"
)

// marshalSliceInOrder marshals a list's elements one after another, in place of gqlgen's
// MarshalSliceConcurrently (go generate rewrites the calls in exec.go). gqlgen starts a
// goroutine for every element of every list of objects: on a finder page that is hundreds per
// request (programmes, their intakes, 200 facet values), and the goroutines' stacks and
// contexts were most of what a GraphQL finder page cost (bench/finder). Nothing here needs
// them: no resolver of a list element waits on its siblings, because nested reads are batched
// by the parents that prime the loaders (loaders.go), not by waiting.
//
// It keeps MarshalSliceConcurrently's contract: each element gets a FieldContext with its
// Index, a panic is recovered into an error with that element null (unless omitPanicHandler),
// and every element of the result is set.
func marshalSliceInOrder(ctx context.Context, length int, _ int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) gql.Marshaler) gql.Array {
	ret := make(gql.Array, length)
	for i := range length {
		fc := &gql.FieldContext{Index: &i}
		childCtx := gql.WithFieldContext(ctx, fc)
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					gql.AddError(childCtx, gql.Recover(childCtx, r))
					ret[i] = gql.Null
				}
			}()
			ret[i] = marshalElement(childCtx, i)
		}()
	}
	return ret
}
