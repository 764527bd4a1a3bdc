package transfer

// SetPartSize makes imports write n records at a time, and returns a function that puts the
// size back.
func SetPartSize(n int) (restore func()) {
	old := partSize
	partSize = n
	return func() { partSize = old }
}
