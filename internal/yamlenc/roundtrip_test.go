package yamlenc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	yaml2 "go.yaml.in/yaml/v2"
	yaml3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"
)

// This file checks the output of Append against the library YAML decoders,
// which serve as the oracle:
//
//   - sigs.k8s.io/yaml.YAMLToJSON must give back a JSON document equal to
//     the input (decoded with UseNumber, numbers compared as float64,
//     differences reported with cmp.Diff).
//   - go.yaml.in/yaml/v2 (YAML 1.1) must decode every string of the input
//     as the same string, every number as a number of the same value, and
//     so on, with no type changes.
//   - go.yaml.in/yaml/v3 (YAML 1.2) must parse a node tree with the input's
//     exact key order, scalar text and resolved tags.

// checkRoundTrip reports how out, the YAML Append produced for the valid
// JSON document in, fails to decode back to in.
func checkRoundTrip(in, out []byte) error {
	want, err := decodeOrdered(in)
	if err != nil {
		return fmt.Errorf("decoding input: %v", err)
	}
	if err := checkLayout(out); err != nil {
		return err
	}
	if err := checkYAMLToJSON(in, out); err != nil {
		return fmt.Errorf("sigs.k8s.io/yaml: %v", err)
	}
	if err := checkV2(want, out); err != nil {
		return fmt.Errorf("yaml.v2 (YAML 1.1): %v", err)
	}
	if err := checkV3(want, out); err != nil {
		return fmt.Errorf("yaml.v3 (YAML 1.2): %v", err)
	}
	return nil
}

// checkLayout checks properties of every output: it ends with exactly one
// newline and has no "---" line.
func checkLayout(out []byte) error {
	if !bytes.HasSuffix(out, []byte("\n")) || bytes.HasSuffix(out, []byte("\n\n")) {
		return fmt.Errorf("output does not end with exactly one newline: %q", out)
	}
	if bytes.HasPrefix(out, []byte("---")) {
		return fmt.Errorf("output starts with a document marker: %q", out)
	}
	return nil
}

// member is one entry of an object, in input order.
type member struct {
	key string
	val any
}

// object is a JSON object that keeps its key order and duplicate keys.
type object []member

// decodeOrdered decodes a JSON document into nil, bool, json.Number,
// string, []any and object values.
func decodeOrdered(in []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(in))
	d.UseNumber()
	v, err := readValue(d)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after value: %v", err)
	}
	return v, nil
}

func readValue(d *json.Decoder) (any, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch delim {
	case '{':
		obj := object{}
		for d.More() {
			k, err := d.Token()
			if err != nil {
				return nil, err
			}
			v, err := readValue(d)
			if err != nil {
				return nil, err
			}
			obj = append(obj, member{k.(string), v})
		}
		_, err = d.Token()
		return obj, err
	case '[':
		arr := []any{}
		for d.More() {
			v, err := readValue(d)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err = d.Token()
		return arr, err
	}
	return nil, fmt.Errorf("unexpected delimiter %v", delim)
}

// outOfRange reports whether n overflows float64. The Go YAML decoders
// read such numbers (for example 1e400) back as strings; this is a
// documented limitation of the package.
func outOfRange(n json.Number) bool {
	_, err := strconv.ParseFloat(string(n), 64)
	return errors.Is(err, strconv.ErrRange)
}

// sameNumber reports whether the JSON number n and the decoded YAML number
// v (int, int64, uint64 or float64) have the same value. Integers that fit
// 64 bits must match exactly; anything else compares as float64, which is
// what the YAML decoders produce for it.
func sameNumber(n json.Number, v any) bool {
	switch v := v.(type) {
	case int:
		return string(n) == strconv.Itoa(v) || n == "-0" && v == 0
	case int64:
		return string(n) == strconv.FormatInt(v, 10)
	case uint64:
		return string(n) == strconv.FormatUint(v, 10)
	case float64:
		f, err := strconv.ParseFloat(string(n), 64)
		return err == nil && f == v
	}
	return false
}

// checkYAMLToJSON converts out back to JSON with sigs.k8s.io/yaml and
// compares the result with in.
func checkYAMLToJSON(in, out []byte) error {
	j, err := yaml.YAMLToJSON(out)
	if err != nil {
		return fmt.Errorf("YAMLToJSON: %v\n%s", err, out)
	}
	want, err := decodeUseNumber(in)
	if err != nil {
		return err
	}
	got, err := decodeUseNumber(j)
	if err != nil {
		return fmt.Errorf("decoding YAMLToJSON output %q: %v", j, err)
	}
	want, got = normalizeNumbers(want), normalizeNumbers(got)
	// cmp.Diff takes exponential time on deeply nested slices, so it only
	// explains a mismatch that reflect.DeepEqual found.
	if !reflect.DeepEqual(want, got) {
		return fmt.Errorf("JSON mismatch (-input +YAMLToJSON):\n%s\nYAML:\n%s", cmp.Diff(want, got), out)
	}
	return nil
}

func decodeUseNumber(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

// normalizeNumbers replaces each json.Number by its float64 value, the
// precision the YAML decoders keep for non-integers, or by its text if it
// is outside the float64 range, which is how the YAML decoders read it.
func normalizeNumbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = normalizeNumbers(e)
		}
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return string(v)
		}
		return f
	}
	return v
}

// checkV2 decodes out with go.yaml.in/yaml/v2 and compares the result with
// want, type for type.
func checkV2(want any, out []byte) error {
	var got any
	if err := yaml2.Unmarshal(out, &got); err != nil {
		return fmt.Errorf("Unmarshal: %v\n%s", err, out)
	}
	if err := compareV2("$", want, got); err != nil {
		return fmt.Errorf("%v\nYAML:\n%s", err, out)
	}
	return nil
}

func compareV2(path string, want, got any) error {
	switch w := want.(type) {
	case object:
		return compareV2Map(path, w, got)
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: got %#v, want a sequence of %d items", path, got, len(w))
		}
		for i := range w {
			if err := compareV2(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); err != nil {
				return err
			}
		}
		return nil
	case json.Number:
		if outOfRange(w) && got == string(w) || sameNumber(w, got) {
			return nil
		}
	case string, bool, nil:
		if got == want {
			return nil
		}
	}
	return fmt.Errorf("%s: got %#v (%[2]T), want %#v (%[3]T)", path, got, want)
}

// compareV2Map compares a mapping decoded by yaml.v2 with the object w.
// Duplicate keys resolve to the last value, as in encoding/json.
func compareV2Map(path string, w object, got any) error {
	g, ok := got.(map[any]any)
	if !ok {
		return fmt.Errorf("%s: got %#v (%[2]T), want a mapping", path, got)
	}
	last := make(map[string]any, len(w))
	for _, m := range w {
		last[m.key] = m.val
	}
	if len(g) != len(last) {
		return fmt.Errorf("%s: got %d keys, want %d: %#v", path, len(g), len(last), g)
	}
	for k, v := range last {
		gv, ok := g[k] // k is a string, so only a string key matches
		if !ok {
			return fmt.Errorf("%s: missing string key %q in %#v", path, k, g)
		}
		if err := compareV2(path+"."+strconv.Quote(k), v, gv); err != nil {
			return err
		}
	}
	return nil
}

// checkV3 parses out with go.yaml.in/yaml/v3 into a node tree and compares
// it with want, including key order and the resolved tag of every scalar.
func checkV3(want any, out []byte) error {
	var doc yaml3.Node
	if err := yaml3.Unmarshal(out, &doc); err != nil {
		return fmt.Errorf("Unmarshal: %v\n%s", err, out)
	}
	if doc.Kind != yaml3.DocumentNode || len(doc.Content) != 1 {
		return fmt.Errorf("got node kind %v with %d children, want one document", doc.Kind, len(doc.Content))
	}
	if err := compareV3("$", want, doc.Content[0]); err != nil {
		return fmt.Errorf("%v\nYAML:\n%s", err, out)
	}
	return nil
}

func compareV3(path string, want any, n *yaml3.Node) error {
	if n.Anchor != "" || n.Style&yaml3.TaggedStyle != 0 {
		return fmt.Errorf("%s: unexpected anchor %q or tag %q", path, n.Anchor, n.Tag)
	}
	switch w := want.(type) {
	case object:
		return compareV3Map(path, w, n)
	case []any:
		if n.Kind != yaml3.SequenceNode || len(n.Content) != len(w) {
			return fmt.Errorf("%s: got %s, want a sequence of %d items", path, describe(n), len(w))
		}
		for i := range w {
			if err := compareV3(fmt.Sprintf("%s[%d]", path, i), w[i], n.Content[i]); err != nil {
				return err
			}
		}
		return nil
	}
	tag, text := scalarTagText(want)
	if n.Kind != yaml3.ScalarNode || n.Value != text || !slices.Contains(strings.Split(tag, "|"), n.ShortTag()) {
		return fmt.Errorf("%s: got %s, want %s %q", path, describe(n), tag, text)
	}
	return nil
}

func compareV3Map(path string, w object, n *yaml3.Node) error {
	if n.Kind != yaml3.MappingNode || len(n.Content) != 2*len(w) {
		return fmt.Errorf("%s: got %s, want a mapping of %d keys", path, describe(n), len(w))
	}
	for i, m := range w {
		p := path + "." + strconv.Quote(m.key)
		if err := compareV3(p+" (key)", m.key, n.Content[2*i]); err != nil {
			return err
		}
		if err := compareV3(p, m.val, n.Content[2*i+1]); err != nil {
			return err
		}
	}
	return nil
}

// scalarTagText returns the acceptable YAML 1.2 tags, separated by "|",
// and the exact scalar text for the JSON scalar v.
func scalarTagText(v any) (tags, text string) {
	switch v := v.(type) {
	case string:
		return "!!str", v
	case json.Number:
		if outOfRange(v) {
			return "!!str", string(v)
		}
		return "!!int|!!float", string(v)
	case bool:
		return "!!bool", strconv.FormatBool(v)
	case nil:
		return "!!null", "null"
	}
	panic(fmt.Sprintf("unexpected value %#v", v))
}

func describe(n *yaml3.Node) string {
	return fmt.Sprintf("node kind=%v tag=%s value=%q children=%d", n.Kind, n.ShortTag(), n.Value, len(n.Content))
}

// appendJSONString appends s as a JSON string, escaping only '"', '\\' and
// control characters, so that invalid UTF-8 stays in the document.
func appendJSONString(dst []byte, s string) []byte {
	return append(appendJSONChars(append(dst, '"'), s), '"')
}

// appendJSONChars appends the characters of s for use inside a JSON
// string, see appendJSONString.
func appendJSONChars(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = fmt.Appendf(dst, `\u%04x`, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// trickyStrings returns a generated corpus of strings that are easy to get
// wrong: YAML 1.1 and 1.2 keywords and numbers, indicators in every
// position, whitespace, control and special Unicode characters, and long
// strings that exceed the implicit key length limit.
func trickyStrings() []string {
	var s []string
	for _, w := range []string{"true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf", "infinity"} {
		s = append(s, w, strings.ToUpper(w), strings.ToUpper(w[:1])+w[1:], w+"x", "x"+w)
	}
	s = append(s,
		"", " ", "  ", "~", "~a", "<<", "<< a", "<", "=", "==", "- -", "--", "---", "--- a", "...", "... a", "....",
		"0", "1", "-1", "+1", "-0", "00", "007", "1.5", "-1.5", "1.", ".5", "-.5", "+.5", "1e3", "1E3", "1e+3", "1e-3",
		"1.5e3", "0x1F", "0X1f", "0x", "0xZZ", "0o17", "0O17", "017", "0b101", "0B101", "-0b101", "+0x1F", "1_000", "1__0",
		"0_1", "1:20", "-1:20", "190:20:30", "1:20.5", ".inf", "-.inf", "+.inf", ".Inf", ".INF", ".nan", ".NaN",
		"NaN", "Infinity", "-Infinity", "1.2.3", "10.0.0.1", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
		"2001-12-14 21:59:43.10 -5", "2001-12-14T21:59:43Z", "12:30:45", "9223372036854775807",
		"9223372036854775808", "18446744073709551615", "18446744073709551616", "1e400", "-1e400", "0x1p-2",
		"100m", "128Mi", "1Gi", "30s", "1h30m", "1e", "1ex", "3d", "12ab", "1st", "0b", "0o", "1i", "1j",
		"a: b", "a:", "a:b", "a::b", "a: ", "a :b", "a #b", "a#b", "a #", "a\tb", "\ta", "a\t", "a\nb", "a\n", "\n",
		"a\r\nb", "a\rb", " a", "a ", "a  b", "a \t b", "#a", "# a", "*", "*a", "*.example.com", "&a", "!a", "!!str a",
		"%YAML 1.2", "@a", "`a", "|", "|-", ">", ">-", "'a'", "'", "\"a\"", "\"", "{}", "[]", "{a: b}", "[a]",
		"a,b", ",a", "?", "? a", "?a", "a?", "- a", "-a", "-", ":", ": a", ":a", "a - b", "a # b", "a ? b",
		"http://example.com:8080/path?q=1#frag", "nginx:1.25", "C:\\Windows", "$(VAR)", "${VAR}", "a\\nb",
		"key: value # comment", "app.kubernetes.io/name", "_a", "/", "/healthz", "(a)", "^a$", ";a", "a;b",
		"héllo", "日本語", "😀", "e\u0301", "\u0301", "\u00a0", "a\u00a0", "\u00a0a", "\u0085", "a\u0085b",
		"\u2028", "a\u2029b", "\ufeff", "\ufeffa", "\ufffd", "\ufffe", "\uffff", "\U000e0001", "\U0010ffff",
		"\u200b", "a\u200bb", "\u3000", "\u0080", "\u009f", "\x7f", "a\x7fb", "\x00", "a\x00b", "\x1b[0m",
		"\b\f", "\u061c", "\U0001f1fa\U0001f1f8", "\xff", "a\xffb", "\xed\xa0\x80", "\xc0\xaf", "\xe2\x80",
		strings.Repeat("a", 2000), strings.Repeat("a b ", 300), strings.Repeat("é", 600),
		strings.Repeat("k", 999), strings.Repeat("k", 1000), strings.Repeat("k", 1001), strings.Repeat("k", 1024),
		strings.Repeat("k", 1025), strings.Repeat("k", 1100), strings.Repeat("*", 1200), strings.Repeat("\x01", 200),
	)
	for c := 0; c < 0x80; c++ {
		ch := string(rune(c))
		s = append(s, ch, ch+"a", "a"+ch, "a"+ch+"b", "a "+ch, ch+" a", "a "+ch+" b", ch+ch, "1"+ch, "1"+ch+"1")
	}
	return s
}

// trickyDocuments embeds each tricky string in every position: as a value,
// a key, a sequence item, the top-level value and inside nested
// sequences and mappings.
func trickyDocuments() [][]byte {
	var docs [][]byte
	for _, s := range trickyStrings() {
		q := string(appendJSONString(nil, s))
		docs = append(docs,
			[]byte(q),
			[]byte(`{"k":`+q+`}`),
			[]byte(`{`+q+`:"v"}`),
			[]byte(`[`+q+`]`),
			[]byte(`{`+q+`:{`+q+`:[`+q+`,{`+q+`:`+q+`,"x":[[`+q+`]]}]},"z":1}`),
			[]byte(`[[`+q+`,[`+q+`]],{`+q+`:[]},{"a":{`+q+`:{}}}]`),
		)
	}
	return docs
}

func TestRoundTripTrickyStrings(t *testing.T) {
	for _, doc := range trickyDocuments() {
		checkDocument(t, doc)
	}
}

// checkDocument converts the valid JSON document doc and checks the round
// trip.
func checkDocument(t testing.TB, doc []byte) {
	t.Helper()
	out, err := Append(nil, doc)
	if err != nil {
		t.Fatalf("Append(%q): %v", doc, err)
	}
	if err := checkRoundTrip(doc, out); err != nil {
		t.Errorf("input %q:\n%v", doc, err)
	}
}

func TestRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	strs := trickyStrings()
	n := 3000
	if testing.Short() {
		n = 300
	}
	for range n {
		doc := randomValue(nil, r, strs, 6)
		checkDocument(t, doc)
	}
}

// randomValue appends a random JSON value of at most the given depth,
// with random whitespace between tokens.
func randomValue(dst []byte, r *rand.Rand, strs []string, depth int) []byte {
	dst = randomSpace(dst, r)
	k := r.IntN(10)
	if depth == 0 {
		k = 9
	}
	switch k {
	case 0, 1, 2:
		dst = append(dst, '{')
		for i := range r.IntN(5) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = randomSpace(appendJSONString(randomSpace(dst, r), randomString(r, strs)), r)
			dst = randomValue(append(dst, ':'), r, strs, depth-1)
		}
		dst = append(randomSpace(dst, r), '}')
	case 3, 4:
		dst = append(dst, '[')
		for i := range r.IntN(5) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = randomValue(dst, r, strs, depth-1)
		}
		dst = append(randomSpace(dst, r), ']')
	default:
		dst = randomScalar(dst, r, strs)
	}
	return randomSpace(dst, r)
}

func randomSpace(dst []byte, r *rand.Rand) []byte {
	if r.IntN(4) == 0 {
		dst = append(dst, " \t\n\r"[r.IntN(4)])
	}
	return dst
}

func randomString(r *rand.Rand, strs []string) string {
	if r.IntN(3) == 0 {
		return strs[r.IntN(len(strs))] + strs[r.IntN(len(strs))]
	}
	return strs[r.IntN(len(strs))]
}

var randomNumbers = []string{
	"0", "-0", "1", "-1", "42", "0.5", "-0.0", "1e3", "1E3", "1e+3", "1e-3", "2.5E-10", "1.0",
	"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
	"18446744073709551615", "18446744073709551616", "123456789012345678901234567890",
	"0.1000000000000000055511151231257827", "1e308", "1e-400", "1e400", "-1e400",
}

func randomScalar(dst []byte, r *rand.Rand, strs []string) []byte {
	switch r.IntN(8) {
	case 0:
		return append(dst, randomNumbers[r.IntN(len(randomNumbers))]...)
	case 1:
		return strconv.AppendInt(dst, r.Int64()>>r.IntN(64), 10)
	case 2:
		return append(dst, [...]string{"true", "false", "null"}[r.IntN(3)]...)
	case 3:
		return appendEscapedJSONString(dst, r, randomString(r, strs))
	case 4:
		// Lone and reversed surrogates, which decode to U+FFFD.
		return append(dst, [...]string{`"\ud800"`, `"x\udc00\ud800y"`, `"\ud800\u0041"`, `"\ud800\\u"`, `"\ud83d"`}[r.IntN(5)]...)
	}
	return appendJSONString(dst, randomString(r, strs))
}

// appendEscapedJSONString appends s as a JSON string that uses every kind
// of escape: short escapes, \u escapes, surrogate pairs for runes outside
// the Basic Multilingual Plane, and escaped '/'. Invalid UTF-8 stays raw.
func appendEscapedJSONString(dst []byte, r *rand.Rand, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && n == 1 || r.IntN(2) == 0:
			dst = appendJSONChars(dst, s[i:i+n])
		case c == '/' || c == '"' || c == '\\':
			dst = append(dst, '\\', byte(c))
		case c > 0xffff:
			c1, c2 := utf16.EncodeRune(c)
			dst = fmt.Appendf(dst, `\u%04x\u%04X`, c1, c2)
		default:
			dst = fmt.Appendf(dst, `\u%04x`, c)
		}
		i += n
	}
	return append(dst, '"')
}

// TestRoundTripObjects checks the realistic objects used by the benchmarks:
// a few of them one by one, and all of them as a single array.
func TestRoundTripObjects(t *testing.T) {
	objs, array := benchmarkInput()
	for _, obj := range objs[:8] {
		checkDocument(t, obj)
	}
	checkDocument(t, array)
}
