package fixturecheck_test

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/webhooktest"
)

// A handler test that decodes a fixture into stripe-go's types, as the
// handler does in production: the request webhooktest signs passes
// stripe-go's own verification, and the fields production fills (the
// invoice's subscription under parent, since API version
// 2025-08-27.basil; the price of each line; the payment time) are
// filled, so the handler dereferences no nil pointer in the test.
func Example_stripe() {
	const secret = "whsec_example_secret"
	p, err := providers.NewStripe(secret)
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := webhooktest.LookupFixture("stripe/invoice.paid")
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := webhooktest.Sign(p, f.Body)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(r.Body)

	ev, err := webhook.ConstructEvent(body, r.Header.Get("Stripe-Signature"), secret)
	if err != nil {
		fmt.Println(err)
		return
	}
	var inv stripe.Invoice
	if err := json.Unmarshal(ev.Data.Raw, &inv); err != nil {
		fmt.Println(err)
		return
	}
	line := inv.Lines.Data[0]
	fmt.Println(ev.Type, inv.ID, inv.Status, inv.AmountPaid, inv.Currency)
	fmt.Println("customer", inv.Customer.ID, "subscription", inv.Parent.SubscriptionDetails.Subscription.ID)
	fmt.Println("line", line.Quantity, "x", line.Pricing.PriceDetails.Price, "from", time.Unix(line.Period.Start, 0).UTC().Format(time.DateOnly), "to", time.Unix(line.Period.End, 0).UTC().Format(time.DateOnly))
	fmt.Println("paid at", time.Unix(inv.StatusTransitions.PaidAt, 0).UTC().Format(time.RFC3339))
	// Output:
	// invoice.paid in_1PJk5fLkdIwHu7ix2mWq0Rb7 paid 4900 usd
	// customer cus_Q9yxJ4v7ZbW2Tn subscription sub_1PJk5fLkdIwHu7ixT8rBn2Kd
	// line 1 x price_1PJjzXLkdIwHu7ixZ0c3Vb7N from 2025-09-16 to 2025-10-16
	// paid at 2025-09-16T10:30:02Z
}
