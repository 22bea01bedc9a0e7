package verify

// Message is the signed content of a request, described in place so that
// nothing is concatenated: the Prefix strings in order (empty ones are
// skipped), then Body, then Suffix. For example Stripe signs
// Message{Prefix: [4]string{t, "."}, Body: body} and Slack signs
// Message{Prefix: [4]string{"v0:", ts, ":"}, Body: body}.
type Message struct {
	Prefix [4]string
	Body   []byte
	Suffix string
}

// Len returns the length of the signed content in bytes.
func (m *Message) Len() int {
	n := len(m.Body) + len(m.Suffix)
	for _, p := range m.Prefix {
		n += len(p)
	}
	return n
}

// AppendTo appends the signed content to dst.
func (m *Message) AppendTo(dst []byte) []byte {
	for _, p := range m.Prefix {
		dst = append(dst, p...)
	}
	dst = append(dst, m.Body...)
	return append(dst, m.Suffix...)
}
