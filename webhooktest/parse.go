package webhooktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
)

// checkBody reports whether body parses as its fixture kind says: a .json
// body must be one JSON value; a .form body must be URL-encoded, and its
// payload field, when present, JSON. The content type must agree.
func checkBody(body []byte, kind, contentType string) error {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content_type %q: %v", contentType, err)
	}
	switch kind {
	case "json":
		if mt != "application/json" && !(len(mt) > 5 && mt[len(mt)-5:] == "+json") {
			return fmt.Errorf("a .json body needs a JSON content_type, not %s", mt)
		}
		if !json.Valid(body) {
			return errors.New("body is not valid JSON")
		}
	case "form":
		if mt != "application/x-www-form-urlencoded" {
			return fmt.Errorf("a .form body needs content_type application/x-www-form-urlencoded, not %s", mt)
		}
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return fmt.Errorf("body is not URL-encoded: %v", err)
		}
		if len(v) == 0 {
			return errors.New("form body has no fields")
		}
		if p, ok := v["payload"]; ok && (len(p) != 1 || !json.Valid([]byte(p[0]))) {
			return errors.New("form field payload is not one JSON value")
		}
	}
	return nil
}
