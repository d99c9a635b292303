package xmpptest

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// ScaleEnv names the environment variable that stretches every wait limit
// in the tests, for machines slower or busier than usual: 2 doubles them.
const ScaleEnv = "GAB_TEST_TIMEOUT_SCALE"

// Scale is the factor read from ScaleEnv (1 when it is unset).
var Scale = readScale()

func readScale() float64 {
	v := os.Getenv(ScaleEnv)
	if v == "" {
		return 1
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 {
		fmt.Fprintf(os.Stderr, "%s=%q is not a positive number; using 1\n", ScaleEnv, v)
		return 1
	}
	return f
}

// Timeout is how long a test may wait for something that normally takes
// well under d: d times Scale. Every wait limit in the tests goes through
// it; the base limits are generous already (30 s for anything that involves
// the server), so a failure means something did not happen, not that the
// machine was busy. Limits bound waits on events only: no test sleeps for
// a Timeout.
func Timeout(d time.Duration) time.Duration {
	return time.Duration(float64(d) * Scale)
}

// Limits shared by the tests.
const (
	// RoundTrip bounds a wait for anything that goes through the server,
	// a login or a flood included.
	RoundTrip = 30 * time.Second
	// Local bounds a wait for something in this process alone, such as
	// the interface drawing an event.
	Local = 15 * time.Second
)
