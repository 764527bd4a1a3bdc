package jobs

import "time"

// SetCollectorClock sets the clock a QueueCollector measures ages with.
func SetCollectorClock(c *QueueCollector, now func() time.Time) { c.now = now }
