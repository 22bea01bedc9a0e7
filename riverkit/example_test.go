package riverkit_test

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookguard/hookguard/riverkit"
)

// Migrate once at deploy time, then build the store on every instance and
// expire old records now and then.
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	if err := riverkit.Migrate(ctx, pool); err != nil { // in the deploy step
		log.Fatal(err)
	}
	store, err := riverkit.NewStore(pool)
	if err != nil {
		log.Fatal(err)
	}
	// Hand store to hookguard.WithStore, and reclaim space in the
	// background.
	go func() {
		for range time.Tick(time.Minute) {
			if _, err := store.Expire(ctx, 1000); err != nil {
				log.Print(err)
			}
		}
	}()
}
