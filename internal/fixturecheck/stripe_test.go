package fixturecheck_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/webhooktest"
)

// stripeEvents are the events receivers act on most; each must have a
// fixture.
var stripeEvents = []string{
	"payment_intent.succeeded", "payment_intent.payment_failed",
	"charge.succeeded", "charge.refunded",
	"checkout.session.completed",
	"customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
	"invoice.paid", "invoice.payment_failed",
}

// stripeObjectTypes maps the "object" of a Stripe API resource to the
// stripe-go type it decodes into. Every resource a fixture holds, at any
// depth, must be listed here, so that it is checked field by field.
var stripeObjectTypes = map[string]reflect.Type{
	"payment_intent":    reflect.TypeFor[stripe.PaymentIntent](),
	"charge":            reflect.TypeFor[stripe.Charge](),
	"payment_method":    reflect.TypeFor[stripe.PaymentMethod](),
	"checkout.session":  reflect.TypeFor[stripe.CheckoutSession](),
	"subscription":      reflect.TypeFor[stripe.Subscription](),
	"subscription_item": reflect.TypeFor[stripe.SubscriptionItem](),
	"price":             reflect.TypeFor[stripe.Price](),
	"plan":              reflect.TypeFor[stripe.Plan](),
	"invoice":           reflect.TypeFor[stripe.Invoice](),
	"line_item":         reflect.TypeFor[stripe.InvoiceLineItem](),
	"event":             reflect.TypeFor[stripe.Event](),
}

// stripeNotSent lists, per stripe-go type, the fields the type declares
// that Stripe leaves out of the resource as a webhook delivers it, and
// why. Every other declared field must be in the fixture (null where
// Stripe sends null).
var stripeNotSent = map[reflect.Type]map[string]string{
	reflect.TypeFor[stripe.Event](): {
		"account": "sent only for events of connected accounts (Connect)",
		"context": "sent only for events of accounts in an organization",
	},
	reflect.TypeFor[stripe.EventData](): {
		"previous_attributes": "sent only with events that describe a change (*.updated, charge.refunded)",
	},
	reflect.TypeFor[stripe.PaymentIntent](): {
		"presentment_details": "sent only when Adaptive Pricing presented another currency",
	},
	reflect.TypeFor[stripe.Charge](): {
		"authorization_code":  "not part of the charge as API version 2025-08-27.basil renders it: the code is in payment_method_details.card.authorization_code",
		"level3":              "sent only for charges that carry Level III data",
		"presentment_details": "sent only when Adaptive Pricing presented another currency",
		"radar_options":       "sent only for charges created with radar_options",
		"refunds":             "not included since API version 2022-11-15 unless expanded, and webhooks do not expand",
		"transfer":            "sent only for destination charges (Connect)",
	},
	reflect.TypeFor[stripe.CheckoutSession](): {
		"line_items":             "includable: sent only when expanded, and webhooks do not expand",
		"optional_items":         "sent only when the session offers optional items",
		"presentment_details":    "sent only when Adaptive Pricing presented another currency",
		"redirect_on_completion": "sent only for embedded and custom ui_mode sessions",
		"return_url":             "sent only for embedded and custom ui_mode sessions",
	},
	reflect.TypeFor[stripe.SubscriptionItem](): {
		"deleted": "sent only on a deleted subscription item",
	},
	reflect.TypeFor[stripe.Price](): {
		"currency_options": "includable: sent only when expanded",
		"deleted":          "sent only on a deleted price",
		"tiers":            "includable: sent only when expanded",
	},
	reflect.TypeFor[stripe.Plan](): {
		"deleted": "sent only on a deleted plan",
		"tiers":   "includable: sent only when expanded",
	},
	reflect.TypeFor[stripe.Invoice](): {
		"confirmation_secret": "includable: sent only when expanded",
		"deleted":             "sent only on a deleted draft invoice",
		"payments":            "includable: sent only when expanded",
		"threshold_reason":    "sent only on invoices billed at a usage threshold",
	},
	reflect.TypeFor[stripe.PaymentMethod](): {
		"radar_options": "sent only for payment methods created with radar_options",
	},
}

// paymentMethodCommon are stripe.PaymentMethod's fields every payment
// method carries; each of its other fields is the hash of one type of
// payment method ("card", "sepa_debit", ...), which Stripe sends only
// when the payment method's type names it.
var paymentMethodCommon = map[string]bool{
	"id": true, "object": true, "allow_redisplay": true, "billing_details": true, "created": true,
	"customer": true, "livemode": true, "metadata": true, "radar_options": true, "type": true,
}

// stripeLeftOut says why Stripe leaves the declared field name out of
// obj, of type t; "" if it does not.
func stripeLeftOut(t reflect.Type, name string, obj map[string]any) string {
	if reason := stripeNotSent[t][name]; reason != "" {
		return reason
	}
	if t == reflect.TypeFor[stripe.PaymentMethod]() && !paymentMethodCommon[name] && obj["type"] != name {
		return "sent only for a payment method of type " + name
	}
	return ""
}

// stripeDoc is one fixture's body decoded loosely, for the checks.
type stripeDoc struct {
	Type string `json:"type"`
	Data struct {
		Object             json.RawMessage `json:"object"`
		PreviousAttributes json.RawMessage `json:"previous_attributes"`
	} `json:"data"`
}

// TestStripeFixturesCoverEvents: every event receivers act on has a
// fixture, named after its type.
func TestStripeFixturesCoverEvents(t *testing.T) {
	have := map[string]bool{}
	for _, f := range webhooktest.Fixtures("stripe") {
		have[f.Event] = true
	}
	for _, e := range stripeEvents {
		if !have[e] {
			t.Errorf("no fixture stripe/%s: add webhooktest/testdata/stripe/%s.json and its .meta.json", e, e)
		}
	}
}

// TestStripeFixturesDecode: each fixture decodes into stripe.Event with
// unknown fields refused, names its own type and stripe-go's API
// version, and its data.object decodes into the stripe-go type of its
// "object", unknown fields refused again, with no nil pointer, map or
// slice where the fixture has a value.
//
// json.Decoder.DisallowUnknownFields does not reach into a type's own
// UnmarshalJSON, and stripe-go's resources have one (for expandable IDs),
// so the decoder alone would let unknown fields through below the top
// level. [checkStripeFields] refuses them at every depth instead.
func TestStripeFixturesDecode(t *testing.T) {
	fixtures := webhooktest.Fixtures("stripe")
	if len(fixtures) == 0 {
		t.Fatal("no stripe fixtures")
	}
	for _, f := range fixtures {
		t.Run(f.Event, func(t *testing.T) {
			var ev stripe.Event
			if err := decodeStrict(f.Body, &ev); err != nil {
				t.Fatalf("decode into stripe.Event: %v", err)
			}
			if string(ev.Type) != f.Event {
				t.Errorf("type %q, want %q (the file name)", ev.Type, f.Event)
			}
			if ev.APIVersion != stripe.APIVersion {
				t.Errorf("api_version %q, want stripe-go's %q", ev.APIVersion, stripe.APIVersion)
			}
			if ev.Object != "event" || !strings.HasPrefix(ev.ID, "evt_") || ev.Created == 0 || ev.Request == nil || ev.Data == nil {
				t.Errorf("envelope incomplete: object %q id %q created %d request %v data %v", ev.Object, ev.ID, ev.Created, ev.Request, ev.Data)
			}
			kind, _ := ev.Data.Object["object"].(string)
			typ, ok := stripeObjectTypes[kind]
			if !ok || kind == "event" {
				t.Fatalf("data.object is a %q: no stripe-go type mapped for it", kind)
			}
			obj := reflect.New(typ)
			if err := decodeStrict(ev.Data.Raw, obj.Interface()); err != nil {
				t.Fatalf("decode data.object into %v: %v", typ, err)
			}
			if id := obj.Elem().FieldByName("ID").String(); id == "" || id != ev.Data.Object["id"] {
				t.Errorf("decoded %v has ID %q", typ, id)
			}
			// No nil where the fixture has a value: each non-null field
			// of the object arrives in the typed value.
			for name, f := range jsonFields(typ) {
				v := obj.Elem().FieldByIndex(f.Index)
				if ev.Data.Object[name] != nil && slices.Contains([]reflect.Kind{reflect.Pointer, reflect.Map, reflect.Slice}, v.Kind()) && v.IsNil() {
					t.Errorf("%s: %q is set in the fixture but nil in the decoded %v", f.Name, name, typ)
				}
			}
		})
	}
}

// TestStripeFixturesComplete: every field of every Stripe resource in a
// fixture (the event, its data.object and the resources nested in it:
// refunds, subscription items, prices, plans, invoice line items) is one
// stripe-go declares, at every depth; and every field stripe-go's type
// declares for a resource is present in it (null allowed), apart from
// those [stripeNotSent] lists with the reason Stripe leaves them out.
// Nested objects that are not resources (billing_details, outcome,
// payment_method_details.card, ...) are checked for unknown fields only:
// they are often one-of hashes (payment_method_details holds only the
// hash of the method used) whose other declared fields Stripe does not
// send.
func TestStripeFixturesComplete(t *testing.T) {
	for _, f := range webhooktest.Fixtures("stripe") {
		t.Run(f.Event, func(t *testing.T) {
			for _, p := range checkStripeFields(f.Body) {
				t.Error(p)
			}
			var doc stripeDoc
			if err := json.Unmarshal(f.Body, &doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Data.PreviousAttributes) == 0 {
				return
			}
			// previous_attributes holds old values of the object's fields:
			// each must be a field of the object's type.
			var obj struct {
				Object string `json:"object"`
			}
			_ = json.Unmarshal(doc.Data.Object, &obj)
			prev, err := decodeAny(doc.Data.PreviousAttributes)
			if err != nil {
				t.Fatal(err)
			}
			c := &stripeChecker{partial: true}
			c.walk("data.previous_attributes", prev, stripeObjectTypes[obj.Object], false)
			for _, p := range c.problems {
				t.Error(p)
			}
		})
	}
}

// TestStripeFixturesCheckerFails proves the checks can fail: a fixture
// with a field removed, or an unknown one added, at the top level or
// deeper, is reported.
func TestStripeFixturesCheckerFails(t *testing.T) {
	edit := func(name string, fn func(obj map[string]any)) []byte {
		v, err := decodeAny(webhooktest.MustFixture(t, name).Body)
		if err != nil {
			t.Fatal(err)
		}
		fn(v.(map[string]any)["data"].(map[string]any)["object"].(map[string]any))
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		body []byte
		want string
	}{
		{"missing top-level field", edit("stripe/charge.refunded", func(o map[string]any) { delete(o, "outcome") }),
			`data.object: stripe.Charge declares "outcome"`},
		{"null kept", edit("stripe/charge.refunded", func(o map[string]any) { o["outcome"] = nil }),
			""},
		{"unknown top-level field", edit("stripe/charge.refunded", func(o map[string]any) { o["risk_score"] = 12 }),
			`data.object.risk_score: not a field of stripe.Charge`},
		{"field an older API version sent", edit("stripe/charge.refunded", func(o map[string]any) { o["refunds"] = map[string]any{"object": "list", "data": []any{}} }),
			""}, // declared by stripe-go: allowed, not required
		{"unknown nested field", edit("stripe/charge.refunded", func(o map[string]any) {
			o["billing_details"].(map[string]any)["nickname"] = "JR"
		}), `data.object.billing_details.nickname: not a field of stripe.ChargeBillingDetails`},
		{"missing field of a nested resource", edit("stripe/invoice.paid", func(o map[string]any) {
			delete(o["lines"].(map[string]any)["data"].([]any)[0].(map[string]any), "pricing")
		}), `data.object.lines.data[0]: stripe.InvoiceLineItem declares "pricing"`},
		{"hash of another payment method type", edit("stripe/payment_intent.payment_failed", func(o map[string]any) {
			o["last_payment_error"].(map[string]any)["payment_method"].(map[string]any)["sepa_debit"] = map[string]any{}
		}), `data.object.last_payment_error.payment_method.sepa_debit: sent only for a payment method of type sepa_debit`},
		{"wrong JSON type", edit("stripe/charge.refunded", func(o map[string]any) { o["amount"] = "2000" }),
			`data.object.amount: a string where stripe-go wants int64`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(checkStripeFields(tc.body), "\n")
			if tc.want == "" {
				if got != "" {
					t.Errorf("problems:\n%s\nwant none", got)
				}
				return
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("problems:\n%s\nwant one containing %q", got, tc.want)
			}
		})
	}
}

// TestStripeFixturesSDKVerifies uses stripe-go as an oracle for the
// signature: each fixture, signed by webhooktest as Stripe signs, is
// accepted by webhook.ConstructEventWithOptions (which also refuses an
// api_version other than stripe-go's) and by webhook.ValidatePayload;
// with one body byte changed, it is refused.
func TestStripeFixturesSDKVerifies(t *testing.T) {
	const secret = "whsec_fixturecheck_0123456789abcdef"
	p, err := providers.NewStripe(secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range webhooktest.Fixtures("stripe") {
		t.Run(f.Event, func(t *testing.T) {
			r := webhooktest.FixtureRequest(t, p, f.Name)
			body, err := io.ReadAll(r.Body)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(body, f.Body) {
				t.Fatal("FixtureRequest changed the body")
			}
			sig := r.Header.Get("Stripe-Signature")
			ev, err := webhook.ConstructEventWithOptions(body, sig, secret, webhook.ConstructEventOptions{Tolerance: 5 * time.Minute})
			if err != nil {
				t.Fatalf("stripe-go refuses webhooktest's signature: %v", err)
			}
			if string(ev.Type) != f.Event {
				t.Errorf("stripe-go read type %q, want %q", ev.Type, f.Event)
			}
			if err := webhook.ValidatePayload(body, sig, secret); err != nil {
				t.Errorf("ValidatePayload: %v", err)
			}
			bad := webhooktest.FixtureRequest(t, p, f.Name, webhooktest.WithFlippedByte())
			badBody, _ := io.ReadAll(bad.Body)
			if err := webhook.ValidatePayload(badBody, bad.Header.Get("Stripe-Signature"), secret); err == nil {
				t.Error("stripe-go accepts a body changed after signing")
			}
		})
	}
}

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("data after the JSON value")
	}
	return nil
}

func decodeAny(b []byte) (any, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return v, dec.Decode(&v)
}

// checkStripeFields compares a Stripe event body with stripe-go's types,
// field by field, and returns what does not match.
func checkStripeFields(body []byte) []string {
	v, err := decodeAny(body)
	if err != nil {
		return []string{err.Error()}
	}
	c := &stripeChecker{}
	c.walk("event", v, reflect.TypeFor[stripe.Event](), true)
	return c.problems
}

type stripeChecker struct {
	problems []string
	partial  bool // previous_attributes: fields may be absent
}

func (c *stripeChecker) fail(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

var (
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	listMetaType   = reflect.TypeFor[stripe.ListMeta]()
)

// walk checks the JSON value v against Go type t. complete asks that
// every declared field be present.
func (c *stripeChecker) walk(path string, v any, t reflect.Type, complete bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return // null: Go's zero value
	}
	if t == rawMessageType || t.Kind() == reflect.Interface {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		switch v := v.(type) {
		case string:
			// An unexpanded reference: the ID of a resource.
			if f, ok := t.FieldByName("ID"); !ok || jsonName(f) != "id" {
				c.fail("%s: a string where %v wants an object", path, t)
			}
		case map[string]any:
			c.walkObject(path, v, t, complete)
		default:
			c.fail("%s: a %T where %v wants an object", path, v, t)
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			c.fail("%s: a %T where %v wants an array", path, v, t)
			return
		}
		for i, e := range arr {
			c.walk(fmt.Sprintf("%s[%d]", path, i), e, t.Elem(), false)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			c.fail("%s: a %T where %v wants an object", path, v, t)
			return
		}
		for k, e := range m {
			c.walk(path+"."+k, e, t.Elem(), false)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			c.fail("%s: a %T where %v wants a string", path, v, t)
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			c.fail("%s: a %T where %v wants a boolean", path, v, t)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			c.fail("%s: a %s where stripe-go wants %v", path, jsonKind(v), t)
		} else if _, err := n.Int64(); err != nil {
			c.fail("%s: %s where stripe-go wants %v", path, n, t)
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			c.fail("%s: a %s where stripe-go wants %v", path, jsonKind(v), t)
		}
	default:
		c.fail("%s: %v has a kind the check does not know (%v)", path, t, t.Kind())
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// walkObject checks a JSON object against struct type t.
func (c *stripeChecker) walkObject(path string, obj map[string]any, t reflect.Type, complete bool) {
	// A Stripe resource (it names its "object") is checked against its
	// own type, completely.
	if kind, ok := obj["object"].(string); ok && kind != "list" && !c.partial {
		rt, known := stripeObjectTypes[kind]
		if !known {
			c.fail("%s: a %q resource, which the check does not map to a stripe-go type: add it to stripeObjectTypes", path, kind)
			return
		}
		if rt != t && t != reflect.TypeFor[stripe.Event]() {
			c.fail("%s: a %q resource where stripe-go's field has type %v", path, kind, t)
			return
		}
		complete = true
	}
	fields := jsonFields(t)
	isList := false
	for _, f := range reflect.VisibleFields(t) {
		if f.Anonymous && f.Type == listMetaType {
			isList = true
		}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f, ok := fields[k]
		switch {
		case !ok && isList && k == "object":
			// stripe-go's lists do not declare "object": "list".
		case !ok:
			c.fail("%s.%s: not a field of %v", path, k, t)
		case t == reflect.TypeFor[stripe.PaymentMethod]() && !paymentMethodCommon[k] && obj["type"] != k:
			c.fail("%s.%s: sent only for a payment method of type %s, and this one is a %v", path, k, k, obj["type"])
		case t == reflect.TypeFor[stripe.EventData]() && k == "object":
			// data.object: checked against its own resource type.
			kind, _ := obj[k].(map[string]any)["object"].(string)
			if rt, known := stripeObjectTypes[kind]; known && kind != "event" {
				c.walk(path+".object", obj[k], rt, true)
			} else {
				c.fail("%s.object: a %q, which no stripe-go type is mapped to", path, kind)
			}
		case t == reflect.TypeFor[stripe.EventData]() && k == "previous_attributes":
			// checked by the caller against the object's type
		default:
			if strings.HasSuffix(f.Tag.Get("json"), ",string") {
				if _, isStr := obj[k].(string); !isStr && obj[k] != nil {
					c.fail("%s.%s: a %s where %v wants a string-encoded number", path, k, jsonKind(obj[k]), t)
				}
				continue
			}
			c.walk(path+"."+k, obj[k], f.Type, false)
		}
	}
	if !complete || c.partial || isList {
		return
	}
	for _, name := range slices.Sorted(mapKeys(fields)) {
		if _, ok := obj[name]; !ok && stripeLeftOut(t, name, obj) == "" {
			c.fail("%s: %v declares %q, which the fixture lacks (add it, null if Stripe sends null, or list it in stripeNotSent with the reason Stripe leaves it out)", path, t, name)
		}
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// jsonFields returns t's fields by JSON name, embedded structs' included,
// json:"-" fields left out.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		if name := jsonName(f); name != "" && name != "-" {
			out[name] = f
		}
	}
	return out
}

func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	if tag == "" {
		return ""
	}
	name, _, _ := strings.Cut(tag, ",")
	return name
}
