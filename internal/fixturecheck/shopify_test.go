package fixturecheck_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/webhooktest"
)

// No Go SDK for Shopify is available to this module (go-shopify is not), so
// the Shopify fixtures are checked for what can be checked without one:
// every sidecar names the published reference its payload was written
// from, the topic and API version headers agree with the file and that
// reference, the mandatory privacy topics carry exactly the documented
// keys, and IDs, GraphQL IDs and amounts agree within and across fixtures.
// That the REST resources (Order, Product, Customer, Shop) are complete
// rests on the references named in the sidecars; no test here can show it.

// shopifyTopics maps each Shopify fixture to its topic and, for REST
// resources, the GraphQL type of the top-level admin_graphql_api_id.
var shopifyTopics = map[string]struct{ topic, gidType string }{
	"shopify/orders.create":          {"orders/create", "Order"},
	"shopify/orders.paid":            {"orders/paid", "Order"},
	"shopify/orders.cancelled":       {"orders/cancelled", "Order"},
	"shopify/products.update":        {"products/update", "Product"},
	"shopify/customers.create":       {"customers/create", "Customer"},
	"shopify/app.uninstalled":        {"app/uninstalled", ""},
	"shopify/customers.data_request": {"customers/data_request", ""},
	"shopify/customers.redact":       {"customers/redact", ""},
	"shopify/shop.redact":            {"shop/redact", ""},
}

// The bodies of the mandatory privacy topics, as documented at
// https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance.
type (
	shopifyCustomerRef struct {
		ID    int64  `json:"id"`
		Email string `json:"email"`
		Phone string `json:"phone"`
	}
	shopifyDataRequest struct {
		ShopID          int64              `json:"shop_id"`
		ShopDomain      string             `json:"shop_domain"`
		OrdersRequested []int64            `json:"orders_requested"`
		Customer        shopifyCustomerRef `json:"customer"`
		DataRequest     struct {
			ID int64 `json:"id"`
		} `json:"data_request"`
	}
	shopifyCustomerRedact struct {
		ShopID         int64              `json:"shop_id"`
		ShopDomain     string             `json:"shop_domain"`
		Customer       shopifyCustomerRef `json:"customer"`
		OrdersToRedact []int64            `json:"orders_to_redact"`
	}
	shopifyShopRedact struct {
		ShopID     int64  `json:"shop_id"`
		ShopDomain string `json:"shop_domain"`
	}
)

// shopifyVersion is a stable Admin API version: quarterly, YYYY-MM.
var shopifyVersion = regexp.MustCompile(`^20[0-9]{2}-(01|04|07|10)$`)

func TestShopifyFixturesCovered(t *testing.T) {
	var have []string
	for _, f := range webhooktest.Fixtures("shopify") {
		have = append(have, f.Name)
		if _, ok := shopifyTopics[f.Name]; !ok {
			t.Errorf("fixture %s is not checked: add it to shopifyTopics", f.Name)
		}
	}
	for name := range shopifyTopics {
		if !slices.Contains(have, name) {
			t.Errorf("no fixture %s in webhooktest", name)
		}
	}
}

// TestShopifyFixturesMeta checks each sidecar: a reference on shopify.dev,
// the topic header and type derived from the file name, an API version
// that is a stable version and, for a webhook reference, the version the
// reference is for, and the shop's myshopify.com domain.
func TestShopifyFixturesMeta(t *testing.T) {
	for _, f := range webhooktest.Fixtures("shopify") {
		t.Run(f.Name, func(t *testing.T) {
			for _, p := range shopifyMetaProblems(f) {
				t.Error(p)
			}
		})
	}
}

func shopifyMetaProblems(f webhooktest.Fixture) []string {
	var out []string
	fail := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if !strings.HasPrefix(f.Reference, "https://shopify.dev/docs/") {
		fail("reference %q: want the shopify.dev page the payload was written from", f.Reference)
	}
	// orders.create is orders/create; customers.data_request is
	// customers/data_request: the first dot is the topic's slash.
	topic := strings.Replace(f.Event, ".", "/", 1)
	if want := shopifyTopics[f.Name].topic; want != "" && topic != want {
		fail("file name gives topic %q, want %q", topic, want)
	}
	if f.Type != topic {
		fail("type %q, want %q from the file name", f.Type, topic)
	}
	if got := f.Header.Get("X-Shopify-Topic"); got != topic {
		fail("X-Shopify-Topic %q, want %q", got, topic)
	}
	version := f.Header.Get("X-Shopify-API-Version")
	if !shopifyVersion.MatchString(version) {
		fail("X-Shopify-API-Version %q is not a stable version (YYYY-01, -04, -07 or -10)", version)
	}
	if strings.Contains(f.Reference, "/docs/api/webhooks") && !strings.Contains(f.Reference, "/webhooks/"+version) {
		fail("reference %q is not for API version %s", f.Reference, version)
	}
	if d := f.Header.Get("X-Shopify-Shop-Domain"); !strings.HasSuffix(d, ".myshopify.com") {
		fail("X-Shopify-Shop-Domain %q: want the shop's myshopify.com domain", d)
	}
	if f.ContentType != "application/json" {
		fail("content type %q: Shopify sends JSON", f.ContentType)
	}
	return out
}

// TestShopifySignedHeaders signs every Shopify fixture as webhooktest does
// and checks that the request carries each header Shopify sends with a
// webhook (https://shopify.dev/docs/apps/build/webhooks/subscribe/https),
// the sidecar's topic, shop domain and API version among them. The
// per-delivery ones (webhook and event ID, trigger time) come from the
// signer, fresh for every request, so the sidecars do not hold them.
func TestShopifySignedHeaders(t *testing.T) {
	p, err := providers.NewShopify("shpss_example_client_secret")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range webhooktest.Fixtures("shopify") {
		t.Run(f.Name, func(t *testing.T) {
			req := webhooktest.FixtureRequest(t, p, f.Name)
			for _, h := range []string{"X-Shopify-Topic", "X-Shopify-Hmac-Sha256", "X-Shopify-Shop-Domain", "X-Shopify-API-Version", "X-Shopify-Webhook-Id", "X-Shopify-Event-Id", "X-Shopify-Triggered-At"} {
				if req.Header.Get(h) == "" {
					t.Errorf("the signed request has no %s", h)
				}
			}
			for _, h := range []string{"X-Shopify-Topic", "X-Shopify-Shop-Domain", "X-Shopify-API-Version"} {
				if got, want := req.Header.Get(h), f.Header.Get(h); got != want {
					t.Errorf("%s: %q in the signed request, %q in the sidecar", h, got, want)
				}
			}
			if _, err := time.Parse(time.RFC3339Nano, req.Header.Get("X-Shopify-Triggered-At")); err != nil {
				t.Errorf("X-Shopify-Triggered-At: %v", err)
			}
		})
	}
}

// TestShopifyPrivacyPayloads decodes the three mandatory privacy topics
// into the documented bodies with unknown fields refused, and requires
// every documented key; their shop and customer are those of the other
// fixtures.
func TestShopifyPrivacyPayloads(t *testing.T) {
	for _, p := range shopifyPrivacyProblems(t, shopifyBodies(t)) {
		t.Error(p)
	}
}

// shopifyBodies returns the Shopify fixtures by name.
func shopifyBodies(t *testing.T) map[string]webhooktest.Fixture {
	t.Helper()
	out := make(map[string]webhooktest.Fixture)
	for _, f := range webhooktest.Fixtures("shopify") {
		out[f.Name] = f
	}
	return out
}

func shopifyPrivacyProblems(t *testing.T, fs map[string]webhooktest.Fixture) []string {
	t.Helper()
	var out []string
	fail := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	var shop struct {
		ID              int64  `json:"id"`
		MyshopifyDomain string `json:"myshopify_domain"`
	}
	if err := json.Unmarshal(fs["shopify/app.uninstalled"].Body, &shop); err != nil || shop.ID == 0 {
		fail("shopify/app.uninstalled: no shop id (%v)", err)
	}
	var order struct {
		ID       int64 `json:"id"`
		Customer struct {
			ID    int64  `json:"id"`
			Email string `json:"email"`
		} `json:"customer"`
	}
	if err := json.Unmarshal(fs["shopify/orders.create"].Body, &order); err != nil || order.ID == 0 {
		fail("shopify/orders.create: no order id (%v)", err)
	}
	// The customer's orders among the fixtures: the privacy topics must
	// list each of them.
	var orders []int64
	for _, name := range []string{"shopify/orders.create", "shopify/orders.paid", "shopify/orders.cancelled"} {
		var o struct {
			ID       int64 `json:"id"`
			Customer struct {
				ID int64 `json:"id"`
			} `json:"customer"`
		}
		if err := json.Unmarshal(fs[name].Body, &o); err != nil {
			fail("%s: %v", name, err)
		}
		if o.Customer.ID == order.Customer.ID && !slices.Contains(orders, o.ID) {
			orders = append(orders, o.ID)
		}
	}
	for _, c := range []struct {
		name string
		into any
	}{
		{"shopify/customers.data_request", &shopifyDataRequest{}},
		{"shopify/customers.redact", &shopifyCustomerRedact{}},
		{"shopify/shop.redact", &shopifyShopRedact{}},
		{"shopify/app.uninstalled", nil},
	} {
		f, ok := fs[c.name]
		if !ok {
			fail("no fixture %s", c.name)
			continue
		}
		domain := f.Header.Get("X-Shopify-Shop-Domain")
		if c.into == nil {
			if shop.MyshopifyDomain != domain {
				fail("%s: myshopify_domain %q, X-Shopify-Shop-Domain %q", c.name, shop.MyshopifyDomain, domain)
			}
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(f.Body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(c.into); err != nil {
			fail("%s: not the documented body: %v", c.name, err)
			continue
		}
		out = append(out, shopifyMissingKeys(c.name, f.Body, reflect.TypeOf(c.into).Elem())...)
		v := reflect.ValueOf(c.into).Elem()
		if id := v.FieldByName("ShopID").Int(); id != shop.ID {
			fail("%s: shop_id %d, the shop of app/uninstalled is %d", c.name, id, shop.ID)
		}
		if d := v.FieldByName("ShopDomain").String(); d != domain {
			fail("%s: shop_domain %q, X-Shopify-Shop-Domain %q", c.name, d, domain)
		}
		if cu := v.FieldByName("Customer"); cu.IsValid() {
			ref := cu.Interface().(shopifyCustomerRef)
			if ref.ID != order.Customer.ID || ref.Email != order.Customer.Email {
				fail("%s: customer %d %s, the order's customer is %d %s", c.name, ref.ID, ref.Email, order.Customer.ID, order.Customer.Email)
			}
		}
		for _, field := range []string{"OrdersRequested", "OrdersToRedact"} {
			ids := v.FieldByName(field)
			if !ids.IsValid() {
				continue
			}
			for _, id := range orders {
				if !slices.Contains(ids.Interface().([]int64), id) {
					fail("%s: %s does not list the customer's order %d", c.name, field, id)
				}
			}
		}
	}
	return out
}

// shopifyMissingKeys returns a problem for each JSON name of struct type t
// (and of its struct fields, recursively) that body lacks.
func shopifyMissingKeys(name string, body []byte, t reflect.Type) []string {
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil {
		return []string{fmt.Sprintf("%s: %v", name, err)}
	}
	var out []string
	var walk func(path string, obj map[string]any, t reflect.Type)
	walk = func(path string, obj map[string]any, t reflect.Type) {
		for i := range t.NumField() {
			sf := t.Field(i)
			key, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			v, ok := obj[key]
			if !ok {
				out = append(out, fmt.Sprintf("%s: documented key %s%s is missing", name, path, key))
				continue
			}
			if sub, isObj := v.(map[string]any); isObj && sf.Type.Kind() == reflect.Struct {
				walk(path+key+".", sub, sf.Type)
			}
		}
	}
	walk("", obj, t)
	return out
}

// TestShopifyResourcesConsistent checks the REST resources for what holds in
// every payload Shopify sends: each admin_graphql_api_id is the GraphQL ID
// of the object's own id (and of the topic's resource at the top level),
// each money set's shop_money amount is the amount beside it, and an
// order's totals add up. The three order topics carry the same fields.
func TestShopifyResourcesConsistent(t *testing.T) {
	fs := shopifyBodies(t)
	for name, want := range shopifyTopics {
		if want.gidType == "" {
			continue
		}
		f, ok := fs[name]
		if !ok {
			continue // reported by TestShopifyFixturesCovered
		}
		t.Run(name, func(t *testing.T) {
			for _, p := range shopifyResourceProblems(f.Body, want.gidType) {
				t.Error(p)
			}
		})
	}
	create := shopifyKeyPaths(fs["shopify/orders.create"].Body)
	for _, name := range []string{"shopify/orders.paid", "shopify/orders.cancelled"} {
		if got := shopifyKeyPaths(fs[name].Body); !slices.Equal(got, create) {
			t.Errorf("%s carries other fields than orders/create: every order topic sends the Order resource", name)
		}
	}
}

func shopifyResourceProblems(body []byte, gidType string) []string {
	var out []string
	fail := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		return []string{err.Error()}
	}
	if gid, _ := top["admin_graphql_api_id"].(string); !strings.HasPrefix(gid, "gid://shopify/"+gidType+"/") {
		fail("top-level admin_graphql_api_id %q is not a %s", gid, gidType)
	}
	gids, refs := map[string]bool{}, map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case []any:
			for i, e := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case map[string]any:
			if gid, ok := v["admin_graphql_api_id"].(string); ok {
				switch id, _ := v["id"].(json.Number); {
				case id == "": // a reference, such as variant_gids[i]
					refs[path] = gid
				case !strings.HasSuffix(gid, "/"+id.String()):
					fail("%s: admin_graphql_api_id %q is not the GraphQL ID of id %v", path, gid, v["id"])
				default:
					gids[gid] = true
				}
			}
			for k, e := range v {
				walk(path+"."+k, e)
				base, isSet := strings.CutSuffix(k, "_set")
				set, isObj := e.(map[string]any)
				if !isSet || !isObj {
					continue
				}
				shop, _ := set["shop_money"].(map[string]any)
				if _, ok := shop["amount"].(string); !ok || set["presentment_money"] == nil {
					fail("%s.%s: a money set has shop_money and presentment_money amounts", path, k)
					continue
				}
				if amount, ok := v[base].(string); ok && amount != shop["amount"] {
					fail("%s.%s: %s, but shop_money amount %s", path, base, amount, shop["amount"])
				}
				if cur, ok := top["currency"].(string); ok && shop["currency_code"] != cur {
					fail("%s.%s: shop_money in %v, the order is in %s", path, k, shop["currency_code"], cur)
				}
			}
		}
	}
	walk("", top)
	for path, gid := range refs {
		if !gids[gid] {
			fail("%s: admin_graphql_api_id %q names no object of the payload", path, gid)
		}
	}
	if gidType == "Order" {
		out = append(out, shopifyOrderTotals(top)...)
	}
	return out
}

// shopifyOrderTotals checks an order's arithmetic: line items make
// total_line_items_price, less discounts the subtotal, plus shipping and
// (unless included) tax the total, and what the customer was charged
// minus total_outstanding is what a paid order received.
func shopifyOrderTotals(o map[string]any) []string {
	var out []string
	amount := func(path ...string) *big.Rat {
		var v any = o
		for _, p := range path {
			m, _ := v.(map[string]any)
			v = m[p]
		}
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case json.Number:
			s = x.String()
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			out = append(out, fmt.Sprintf("%s: %v is not an amount", strings.Join(path, "."), v))
			return new(big.Rat)
		}
		return r
	}
	items := new(big.Rat)
	lines, _ := o["line_items"].([]any)
	for _, l := range lines {
		li, _ := l.(map[string]any)
		price, _ := new(big.Rat).SetString(fmt.Sprint(li["price"]))
		qty, _ := new(big.Rat).SetString(fmt.Sprint(li["quantity"]))
		if price == nil || qty == nil {
			out = append(out, fmt.Sprintf("line item %v: price or quantity missing", li["id"]))
			continue
		}
		items.Add(items, new(big.Rat).Mul(price, qty))
	}
	check := func(what string, got, want *big.Rat) {
		if got.Cmp(want) != 0 {
			out = append(out, fmt.Sprintf("%s is %s, want %s", what, got.FloatString(2), want.FloatString(2)))
		}
	}
	check("total_line_items_price", amount("total_line_items_price"), items)
	check("subtotal_price", amount("subtotal_price"), new(big.Rat).Sub(items, amount("total_discounts")))
	total := new(big.Rat).Add(amount("subtotal_price"), amount("total_shipping_price_set", "shop_money", "amount"))
	if o["taxes_included"] != true {
		total.Add(total, amount("total_tax"))
	}
	check("total_price", amount("total_price"), total)
	return out
}

// shopifyKeyPaths returns the sorted paths of every object key in body,
// array indexes left out.
func shopifyKeyPaths(body []byte) []string {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil
	}
	seen := map[string]bool{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				walk(path+"[]", e)
			}
		case map[string]any:
			for k, e := range v {
				seen[path+"."+k] = true
				walk(path+"."+k, e)
			}
		}
	}
	walk("", v)
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestShopifyCheckerFails shows that the checks above can fail: each case
// spoils a copy of the fixtures and expects the problem to be reported.
func TestShopifyCheckerFails(t *testing.T) {
	tests := []struct {
		name, fixture, old, new, want string
	}{
		{"privacy key left out", "shopify/customers.redact", `,"orders_to_redact":[5748294123842,5748301955138]`, ``, "documented key orders_to_redact is missing"},
		{"privacy key unknown", "shopify/shop.redact", `{"shop_id"`, `{"shop_name":"x","shop_id"`, `unknown field "shop_name"`},
		{"privacy order left out", "shopify/customers.data_request", `"orders_requested":[5748294123842,5748301955138]`, `"orders_requested":[5748294123842]`, "does not list the customer's order 5748301955138"},
		{"privacy customer differs", "shopify/customers.data_request", `"id":7238765117506`, `"id":7238765117507`, "the order's customer is"},
		{"GraphQL ID differs", "shopify/orders.create", `"gid://shopify/LineItem/14213350752322"`, `"gid://shopify/LineItem/1"`, "is not the GraphQL ID"},
		{"money set differs", "shopify/orders.create", `"total_tax":"31.84"`, `"total_tax":"31.85"`, "total_tax: 31.85, but shop_money amount 31.84"},
		{"GraphQL reference dangles", "shopify/products.update", `"variant_gids":[{"admin_graphql_api_id":"gid://shopify/ProductVariant/45214510612546"`, `"variant_gids":[{"admin_graphql_api_id":"gid://shopify/ProductVariant/4"`, "names no object of the payload"},
		{"total does not add up", "shopify/orders.paid", `"total_weight":400,"updated_at"`, `"total_weight":400,"total_shipping_price_set":{"shop_money":{"amount":"11.00","currency_code":"USD"},"presentment_money":{"amount":"11.00","currency_code":"USD"}},"updated_at"`, "total_price is 439.84, want 440.84"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := shopifyBodies(t)
			f := fs[tt.fixture]
			body := strings.Replace(string(f.Body), tt.old, tt.new, 1)
			if body == string(f.Body) {
				t.Fatalf("the spoiler changed nothing in %s: update the test", tt.fixture)
			}
			f.Body = []byte(body)
			fs[tt.fixture] = f
			var problems []string
			if shopifyTopics[tt.fixture].gidType == "" {
				problems = shopifyPrivacyProblems(t, fs)
			} else {
				problems = shopifyResourceProblems(f.Body, shopifyTopics[tt.fixture].gidType)
			}
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("problems %q; want one containing %q", problems, tt.want)
			}
		})
	}

	f := webhooktest.MustFixture(t, "shopify/orders.paid")
	f.Header.Set("X-Shopify-Topic", "orders/create")
	f.Header.Set("X-Shopify-API-Version", "2025-11")
	problems := strings.Join(shopifyMetaProblems(f), "\n")
	for _, want := range []string{`X-Shopify-Topic "orders/create", want "orders/paid"`, `"2025-11" is not a stable version`} {
		if !strings.Contains(problems, want) {
			t.Errorf("meta problems %q; want one containing %q", problems, want)
		}
	}
}
