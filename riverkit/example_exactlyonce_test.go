package riverkit_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/riverkit"
)

// payment is the part of a Stripe event the handler reads.
type payment struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		Object struct {
			ID     string `json:"id"`
			Amount int64  `json:"amount"`
		} `json:"object"`
	} `json:"data"`
}

// recordPayment writes the payment in the transaction that completes the
// event's River job: both commit, or neither does, so a crash at any
// moment never records a payment twice nor loses one that was
// acknowledged. The ledger needs no unique constraint for that.
func recordPayment(ctx context.Context, tx pgx.Tx, e hookguard.Event) error {
	var p payment
	if err := e.Decode(&p); err != nil {
		return hookguard.Permanent(err)
	}
	_, err := tx.Exec(ctx, "INSERT INTO ledger (event_id, charge, amount) VALUES ($1, $2, $3)",
		p.ID, p.Data.Object.ID, p.Data.Object.Amount)
	return err
}

// newPaymentsReceiver builds a Stripe receiver whose deliveries are
// recorded as seen and queued in one transaction, and whose handler runs
// exactly once per event.
func newPaymentsReceiver(ctx context.Context, pool *pgxpool.Pool, secret string) (*hookguard.Receiver, *riverkit.Queue, error) {
	stripe, err := providers.NewStripe(secret)
	if err != nil {
		return nil, nil, err
	}
	q, err := riverkit.NewTxQueue(ctx, pool, riverkit.TxHandlerFunc(recordPayment))
	if err != nil {
		return nil, nil, err
	}
	recv, err := hookguard.New(stripe, nil, hookguard.WithQueue(q), hookguard.WithStore(q.Store()))
	if err != nil {
		_ = q.Shutdown(ctx)
		return nil, nil, err
	}
	return recv, q, nil
}

// A payments ledger written exactly once per Stripe event, with the
// event's River job in the same transaction. Run the migration once, in
// a deploy step; then every instance serves the receiver.
func Example_exactlyOnce() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	if err := riverkit.Migrate(ctx, pool); err != nil { // deploy step
		log.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "CREATE TABLE IF NOT EXISTS ledger (event_id text, charge text, amount bigint)"); err != nil {
		log.Fatal(err)
	}

	recv, q, err := newPaymentsReceiver(ctx, pool, os.Getenv("STRIPE_WEBHOOK_SECRET"))
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = q.Shutdown(ctx) }() // after the HTTP server's Shutdown
	http.Handle("POST /webhooks/stripe", recv)
	fmt.Println("listening")
	// log.Fatal(http.ListenAndServe(":8080", nil))
}
