package catalogue

// Stem is stem, for tests.
var Stem = stem
