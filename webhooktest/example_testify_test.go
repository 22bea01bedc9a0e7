package webhooktest_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/webhooktest"
)

// errLedgerDown is what the application's handler returns while its
// ledger is unreachable.
var errLedgerDown = errors.New("ledger unavailable")

// testStripeReceiver is a test of an application's Stripe receiver,
// written with testify, as it would sit in the application's _test.go
// file (as func TestStripeReceiver(t *testing.T)): the receiver is the one
// the application ships, with its queue and retries; the Recorder only
// watches it.
func testStripeReceiver(t *testing.T, app hookguard.Handler) {
	p, err := providers.NewStripe("whsec_test")
	require.NoError(t, err)
	rec := webhooktest.NewRecorder()
	recv, err := hookguard.New(p, app, rec.Options()...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = recv.Shutdown(context.Background()) })

	// Handled, perhaps after retries: the answer is 200 either way.
	res := rec.Do(t, recv, webhooktest.FixtureRequest(t, p, "stripe/payment_intent.succeeded"))
	require.Equal(t, http.StatusOK, res.Status)
	require.NotNil(t, res.Handled, "dead letter: %v", res.DeadLetter)
	require.Equal(t, "payment_intent.succeeded", res.Handled.Type)

	// The same delivery again is a duplicate, and the handler does not run.
	res = rec.Do(t, recv, webhooktest.FixtureRequest(t, p, "stripe/payment_intent.succeeded"))
	require.True(t, res.Duplicate)

	// A forged delivery is refused before anything is stored.
	res = rec.Do(t, recv, webhooktest.FixtureRequest(t, p, "stripe/charge.refunded", webhooktest.WithWrongSecret()))
	require.Equal(t, http.StatusUnauthorized, res.Status)
	require.Nil(t, res.Handled)

	// This app gives up on refunds while its ledger is down: the event is
	// dead-lettered (still answered 200), and errors.Is sees its error.
	res = rec.Do(t, recv, webhooktest.FixtureRequest(t, p, "stripe/charge.refunded"))
	require.Equal(t, http.StatusOK, res.Status)
	require.NotNil(t, res.DeadLetter)
	require.ErrorIs(t, res.DeadLetter.Err, errLedgerDown)
}

// Example_testify shows a receiver's test written with testify's require:
// every webhooktest helper takes a testing.TB, so it works with testify or
// without it.
func Example_testify() {
	_ = testStripeReceiver // called from a test function: it needs its *testing.T
}
