package yamlenc

import (
	"encoding/json"
	"strings"
	"testing"
)

// appendTests are documents with their exact expected output. They also
// seed FuzzAppend.
var appendTests = []struct {
	name, in, want string
}{{
	name: "HTTPRoute",
	in: `{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute",` +
		`"metadata":{"name":"web","namespace":"default","labels":{"app.kubernetes.io/name":"web"},"annotations":{}},` +
		`"spec":{"parentRefs":[{"name":"gateway","namespace":"infra","sectionName":"https"}],` +
		`"hostnames":["www.example.com","*.example.com"],` +
		`"rules":[{"matches":[{"path":{"type":"PathPrefix","value":"/"}},{"headers":[{"name":"x-canary","value":"true"}]}],` +
		`"backendRefs":[{"name":"web","port":8080,"weight":90}],"timeouts":{"request":"10s"}}]}}`,
	want: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: default
  labels:
    app.kubernetes.io/name: web
  annotations: {}
spec:
  parentRefs:
  - name: gateway
    namespace: infra
    sectionName: https
  hostnames:
  - www.example.com
  - "*.example.com"
  rules:
  - matches:
    - path:
        type: PathPrefix
        value: /
    - headers:
      - name: x-canary
        value: "true"
    backendRefs:
    - name: web
      port: 8080
      weight: 90
    timeouts:
      request: 10s
`,
}, {
	name: "key order is kept",
	in:   `{"z":1,"a":2,"m":{"b":1,"a":2}}`,
	want: "z: 1\na: 2\nm:\n  b: 1\n  a: 2\n",
}, {
	name: "nested lists of maps",
	in:   `{"a":[{"b":[{"c":1,"d":[{"e":"f"}]}],"g":2},{"h":{}}]}`,
	want: `a:
- b:
  - c: 1
    d:
    - e: f
  g: 2
- h: {}
`,
}, {
	name: "lists of lists",
	in:   `[[1,2],[[3,[4]],5],[],[[]],[{"a":[[6]]}],[{},"x"]]`,
	want: `- - 1
  - 2
- - - 3
    - - 4
  - 5
- []
- - []
- - a:
    - - 6
- - {}
  - x
`,
}, {
	name: "empty containers",
	in:   `{"labels":{},"items":[],"list":[{},[]],"nested":{"x":{}}}`,
	want: "labels: {}\nitems: []\nlist:\n- {}\n- []\nnested:\n  x: {}\n",
}, {
	name: "empty object",
	in:   `{}`,
	want: "{}\n",
}, {
	name: "empty array",
	in:   `[]`,
	want: "[]\n",
}, {
	name: "whitespace everywhere",
	in:   " \t\r\n{ \"a\" :\n[ 1 , { \"b\" : null } ] , \"c\" : { } }\n ",
	want: "a:\n- 1\n- b: null\nc: {}\n",
}, {
	name: "top-level string",
	in:   `"hello"`,
	want: "hello\n",
}, {
	name: "top-level quoted string",
	in:   `"---"`,
	want: "\"---\"\n",
}, {
	name: "top-level number",
	in:   `-1.5e+10`,
	want: "-1.5e+10\n",
}, {
	name: "top-level null",
	in:   `null`,
	want: "null\n",
}, {
	name: "literals and numbers verbatim",
	in:   `{"t":true,"f":false,"n":null,"i":-0,"e":1E+2,"d":0.10,"big":123456789012345678901234567890}`,
	want: "t: true\nf: false\n\"n\": null\ni: -0\ne: 1E+2\nd: 0.10\nbig: 123456789012345678901234567890\n",
}, {
	name: "keys",
	in:   `{"app.kubernetes.io/name":1,"*":2,"":3,"a: b":4,"null":5,"1":6,"-":7,"ünï":8,"x y":9}`,
	want: `app.kubernetes.io/name: 1
"*": 2
"": 3
"a: b": 4
"null": 5
"1": 6
"-": 7
ünï: 8
x y: 9
`,
}, {
	name: "unicode",
	in:   `["héllo","日本語","😀 ok","\u00e9\ud83d\ude00","a\u00a0b","\u2028","\ufeffx","e\u0301"]`,
	want: "- héllo\n- 日本語\n- 😀 ok\n- é😀\n- \"a\\u00a0b\"\n- \"\\u2028\"\n- \"\\ufeffx\"\n- e\u0301\n",
}, {
	name: "escapes",
	in:   `["a\nb","tab\there","q\"uote","back\\slash","\u0000\u001b\u007f\u0085","\b\f\r","\/"]`,
	want: `- "a\nb"
- "tab\there"
- q"uote
- back\slash
- "\u0000\u001b\u007f\u0085"
- "\b\f\r"
- /
`,
}, {
	name: "invalid UTF-8 and lone surrogates become U+FFFD",
	in:   "[\"a\xffb\",\"\\ud800\",\"\\udc00\\ud800x\",\"\\ud83d\\u0041\"]",
	want: "- a\uFFFDb\n- \uFFFD\n- \uFFFD\uFFFDx\n- \uFFFDA\n",
}, {
	name: "long key",
	in:   `{"` + strings.Repeat("k", 1001) + `":{"a":[1]},"b":[` + `{"` + strings.Repeat("*", 1000) + `":"v"}]}`,
	want: "? " + strings.Repeat("k", 1001) + "\n:\n  a:\n  - 1\nb:\n- ? \"" + strings.Repeat("*", 1000) + "\"\n  : v\n",
}}

func TestAppend(t *testing.T) {
	for _, tt := range appendTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Append(nil, []byte(tt.in))
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("Append(%q):\ngot:\n%s\nwant:\n%s", tt.in, got, tt.want)
			}
			if err := checkRoundTrip([]byte(tt.in), got); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestAppendKeepsPrefix checks that Append appends, and leaves dst alone on
// error.
func TestAppendKeepsPrefix(t *testing.T) {
	dst := []byte("---\n")
	got, err := Append(dst, []byte(`{"a":[1]}`))
	if err != nil || string(got) != "---\na:\n- 1\n" {
		t.Errorf("Append = %q, %v", got, err)
	}
	got, err = Append(got, []byte(`{"a":[1}`))
	if err == nil || string(got) != "---\na:\n- 1\n" {
		t.Errorf("Append of invalid JSON = %q, %v; want unchanged dst and an error", got, err)
	}
}

// scalarTests give the exact encoding of strings as a mapping value. The
// quoted cases are the ones YAML 1.1 or 1.2 could read as something else.
var scalarTests = []struct {
	in, want string
}{
	// Plain.
	{"hello", "hello"},
	{"hello world", "hello world"},
	{"a  b", "a  b"},
	{"/healthz", "/healthz"},
	{"nginx:1.25", "nginx:1.25"},
	{"http://example.com:8080/p?q=1#frag", "http://example.com:8080/p?q=1#frag"},
	{"100m", "100m"},
	{"128Mi", "128Mi"},
	{"1h30m", "1h30m"},
	{"a#b", "a#b"},
	{"it's", "it's"},
	{`say "hi"`, `say "hi"`},
	{"a,b[c]{d}", "a,b[c]{d}"},
	{"x-y_z", "x-y_z"},
	{"a - b", "a - b"},
	{`C:\path`, `C:\path`},
	{"$(VAR)", "$(VAR)"},
	{"_private", "_private"},
	{"yess", "yess"},
	{"Yes!", "Yes!"},
	{"x*", "x*"},
	{"héllo", "héllo"},
	{"😀", "😀"},
	// Empty and whitespace.
	{"", `""`},
	{" ", `" "`},
	{" a", `" a"`},
	{"a ", `"a "`},
	// Bool and null in YAML 1.1 or 1.2, any case.
	{"true", `"true"`},
	{"True", `"True"`},
	{"tRuE", `"tRuE"`},
	{"false", `"false"`},
	{"yes", `"yes"`},
	{"NO", `"NO"`},
	{"y", `"y"`},
	{"N", `"N"`},
	{"on", `"on"`},
	{"Off", `"Off"`},
	{"null", `"null"`},
	{"NULL", `"NULL"`},
	{"~", `"~"`},
	// Numbers in YAML 1.1 or 1.2.
	{"0", `"0"`},
	{"123", `"123"`},
	{"-1", `"-1"`},
	{"+1", `"+1"`},
	{"1.5", `"1.5"`},
	{".5", `".5"`},
	{"1e3", `"1e3"`},
	{"1E3", `"1E3"`},
	{"0x1F", `"0x1F"`},
	{"0o17", `"0o17"`},
	{"017", `"017"`},
	{"0b101", `"0b101"`},
	{"1_000", `"1_000"`},
	{"1:20", `"1:20"`},
	{".inf", `".inf"`},
	{"-.Inf", `"-.Inf"`},
	{".nan", `".nan"`},
	{"NaN", `"NaN"`},
	{"Infinity", `"Infinity"`},
	{"12d", `"12d"`},
	// Timestamps and dotted numbers.
	{"2001-12-14", `"2001-12-14"`},
	{"1.2.3", `"1.2.3"`},
	{"10.0.0.1", `"10.0.0.1"`},
	// Indicators.
	{"-", `"-"`},
	{"- a", `"- a"`},
	{"-a", `"-a"`},
	{"?", `"?"`},
	{":", `":"`},
	{":a", `":a"`},
	{",a", `",a"`},
	{"[a]", `"[a]"`},
	{"]", `"]"`},
	{"{a}", `"{a}"`},
	{"}", `"}"`},
	{"#a", `"#a"`},
	{"&a", `"&a"`},
	{"*", `"*"`},
	{"*.example.com", `"*.example.com"`},
	{"!a", `"!a"`},
	{"|", `"|"`},
	{">", `">"`},
	{"'a'", `"'a'"`},
	{`"a"`, `"\"a\""`},
	{"%a", `"%a"`},
	{"@a", `"@a"`},
	{"`a", "\"`a\""},
	{"<<", `"<<"`},
	{"=", `"="`},
	{"---", `"---"`},
	{"...", `"..."`},
	// Indicators inside.
	{"a: b", `"a: b"`},
	{"a:", `"a:"`},
	{"a #b", `"a #b"`},
	// Control and special characters.
	{"a\nb", `"a\nb"`},
	{"a\tb", `"a\tb"`},
	{"a\rb", `"a\rb"`},
	{"\x00", `"\u0000"`},
	{"\x7f", `"\u007f"`},
	{"\u0085", `"\u0085"`},
	{"\u00a0", `"\u00a0"`},
	{"\u200b", `"\u200b"`},
	{"\u2028", `"\u2028"`},
	{"\ufeff", `"\ufeff"`},
	{"\uffff", `"\uffff"`},
	{"\U0001F600\u2029", "\"\U0001F600\\u2029\""},
}

func TestScalarStyle(t *testing.T) {
	for _, tt := range scalarTests {
		in, err := json.Marshal(map[string]string{"k": tt.in})
		if err != nil {
			t.Fatal(err)
		}
		got, err := Append(nil, in)
		if err != nil {
			t.Fatalf("Append(%s): %v", in, err)
		}
		if want := "k: " + tt.want + "\n"; string(got) != want {
			t.Errorf("Append(%s) = %q, want %q", in, got, want)
		}
		if err := checkRoundTrip(in, got); err != nil {
			t.Error(err)
		}
	}
}

// invalidTests are documents encoding/json rejects. They also seed
// FuzzAppend.
var invalidTests = []string{
	``, ` `, `{`, `}`, `[`, `]`, `[1,]`, `[,1]`, `{"a":1,}`, `{,}`, `{"a"}`, `{"a":}`, `{"a" 1}`, `{a:1}`,
	`{1:1}`, `{"a":1 "b":2}`, `[1 2]`, `[1}`, `{"a":1]`, `"abc`, `"\x"`, `"\u12"`, `"\u12g4"`, `"a` + "\n" + `"`,
	"\"a\x00\"", `'a'`, `tru`, `truex`, `nul`, `f`, `-`, `--1`, `+1`, `01`, `1.`, `.5`, `1e`, `1e+`, `1.e3`,
	`0x1F`, `NaN`, `Infinity`, `1 2`, `{} {}`, `[]]`, "\ufeff{}", `{"a":1}x`, `"\`, `"\u`, `[` + strings.Repeat(" ", 3),
}

func TestAppendInvalid(t *testing.T) {
	for _, in := range invalidTests {
		if json.Valid([]byte(in)) {
			t.Fatalf("test input %q is valid JSON", in)
		}
		got, err := Append([]byte("prefix"), []byte(in))
		if err == nil {
			t.Errorf("Append(%q) = %q, want an error", in, got)
		}
		if string(got) != "prefix" {
			t.Errorf("Append(%q) changed dst to %q", in, got)
		}
	}
}

// TestAppendDepth checks that nesting is limited exactly like
// encoding/json, without overflowing the stack.
func TestAppendDepth(t *testing.T) {
	for _, tt := range []struct {
		depth              int
		open, inner, close string
		valid              bool
	}{
		{10000, "[", "", "]", true},
		{10000, `{"a":`, "1", "}", true},
		{10001, "[", "", "]", false},
		{10001, `{"a":`, "1", "}", false},
		{1000000, "[", "", "]", false},
	} {
		in := []byte(strings.Repeat(tt.open, tt.depth) + tt.inner + strings.Repeat(tt.close, tt.depth))
		if json.Valid(in) != tt.valid {
			t.Fatalf("json.Valid(%d x %s) = %v", tt.depth, tt.open, !tt.valid)
		}
		out, err := Append(nil, in)
		if (err == nil) != tt.valid {
			t.Errorf("Append(%d x %s): error %v, want valid=%v", tt.depth, tt.open, err, tt.valid)
		}
		if tt.valid && tt.open == "[" {
			// The YAML decoders handle this depth too. (The output for
			// nested objects is 100 MB of indentation, too slow to check.)
			want, err := decodeOrdered(in)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkV2(want, out); err != nil {
				t.Error(err)
			}
			if err := checkV3(want, out); err != nil {
				t.Error(err)
			}
		}
	}
}
