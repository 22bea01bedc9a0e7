package jsonscan_test

import (
	"fmt"

	"github.com/hookguard/hookguard/internal/jsonscan"
)

func ExampleField() {
	body := []byte(`{
		"id": "evt_1NG8Du2eZvKYlo2CUI79vXWy",
		"type": "payment_intent.succeeded",
		"data": {"object": {"id": "pi_3", "amount": 2000, "metadata": {"note": "caf\u00e9"}}}
	}`)
	id, _ := jsonscan.Field(body, "id")
	typ, _ := jsonscan.Field(body, "type")
	amount, _ := jsonscan.Field(body, "data", "object", "amount")
	note, _ := jsonscan.Field(body, "data", "object", "metadata", "note")
	_, ok := jsonscan.Field(body, "data") // an object, not a scalar
	fmt.Println(id)
	fmt.Println(typ)
	fmt.Println(amount, note, ok)
	// Output:
	// evt_1NG8Du2eZvKYlo2CUI79vXWy
	// payment_intent.succeeded
	// 2000 café false
}
