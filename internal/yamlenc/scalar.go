package yamlenc

import (
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// scalar writes the string, number or literal at the read offset, which
// must be within the input.
func (e *encoder) scalar() error {
	switch c := e.src[e.pos]; {
	case c == '"':
		return e.str()
	case c == '-' || isDigit(c):
		return e.number()
	case c == 't':
		return e.literal("true")
	case c == 'f':
		return e.literal("false")
	case c == 'n':
		return e.literal("null")
	}
	return e.unexpected("looking for beginning of value")
}

// literal copies the keyword word, which must be at the read offset.
func (e *encoder) literal(word string) error {
	rest := e.src[e.pos:]
	for i := 0; i < len(word); i++ {
		if i >= len(rest) || rest[i] != word[i] {
			e.pos += i
			return e.unexpected("in literal " + word)
		}
	}
	e.pos += len(word)
	e.dst = append(e.dst, word...)
	return nil
}

// number validates the JSON number at the read offset and copies its text.
func (e *encoder) number() error {
	src, i := e.src, e.pos
	if src[i] == '-' {
		i++
	}
	switch {
	case i < len(src) && src[i] == '0':
		i++
	case i < len(src) && src[i] >= '1' && src[i] <= '9':
		i = skipDigits(src, i+1)
	default:
		e.pos = i
		return e.unexpected("in numeric literal")
	}
	if i < len(src) && src[i] == '.' {
		if i++; i >= len(src) || !isDigit(src[i]) {
			e.pos = i
			return e.unexpected("after decimal point in numeric literal")
		}
		i = skipDigits(src, i)
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		if i++; i < len(src) && (src[i] == '+' || src[i] == '-') {
			i++
		}
		if i >= len(src) || !isDigit(src[i]) {
			e.pos = i
			return e.unexpected("in exponent of numeric literal")
		}
		i = skipDigits(src, i)
	}
	e.dst = append(e.dst, src[e.pos:i]...)
	e.pos = i
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func skipDigits(src []byte, i int) int {
	for i < len(src) && isDigit(src[i]) {
		i++
	}
	return i
}

// Flags returned by scanString.
const (
	strEscaped  = 1 << iota // contains a backslash escape
	strNonASCII             // contains bytes >= 0x80, possibly invalid UTF-8
	strSimple               // only bytes of class strPlainMid
)

// Bits of strClass.
const (
	strJSON     = 1 << iota // stands for itself in a JSON string
	strPlainMid             // is fine anywhere in a plain scalar but first
)

// strClass classifies bytes for scanString. Bytes that stand for
// themselves in a JSON string, printable ASCII except '"' and '\\', need
// no attention from the scanner; most of them (all but ' ', ':' and DEL)
// are also fine anywhere in a plain scalar after its first byte.
var strClass = func() (t [256]uint8) {
	for c := 0x20; c < 0x80; c++ {
		if c != '"' && c != '\\' {
			t[c] = strJSON
		}
		if plainClass[c] == plainOK {
			t[c] |= strPlainMid
		}
	}
	return t
}()

// str writes the JSON string at the read offset as a YAML scalar.
func (e *encoder) str() error {
	raw, flags, err := e.scanString()
	if err != nil {
		return err
	}
	if flags == strSimple && plainPrefix(raw) {
		// The common case, decided without a second pass over raw.
		e.dst = append(e.dst, raw...)
		return nil
	}
	if flags&strEscaped == 0 && (flags&strNonASCII == 0 || utf8.Valid(raw)) {
		e.dst = appendString(e.dst, raw)
		return nil
	}
	// Decode into dst, then replace the decoded text by its quoted form
	// if it cannot stay plain. This needs no scratch buffer.
	start := len(e.dst)
	e.dst = appendUnescaped(e.dst, raw)
	mid := len(e.dst)
	if !isPlain(e.dst[start:mid]) {
		e.dst = appendQuoted(e.dst, e.dst[start:mid])
		e.dst = e.dst[:start+copy(e.dst[start:], e.dst[mid:])]
	}
	return nil
}

// scanString consumes the JSON string at the read offset and returns its
// contents between the quotes, still escaped, with str* flags describing
// them.
func (e *encoder) scanString() (raw []byte, flags int, err error) {
	src, start := e.src, e.pos+1
	simple := uint8(strPlainMid)
	for i := start; i < len(src); {
		c := src[i]
		if class := strClass[c]; class&strJSON != 0 {
			simple &= class
			i++
			continue
		}
		switch {
		case c == '"':
			e.pos = i + 1
			if simple != 0 {
				flags |= strSimple
			}
			return src[start:i], flags, nil
		case c == '\\':
			n := escapeLen(src[i:])
			if n == 0 {
				e.pos = i + 1
				return nil, 0, e.unexpected("in string escape code")
			}
			flags |= strEscaped
			i += n
		case c < 0x20:
			e.pos = i
			return nil, 0, e.unexpected("in string literal")
		default:
			flags |= strNonASCII
			i++
		}
	}
	e.pos = len(src)
	return nil, 0, e.unexpected("in string literal")
}

// escapeLen returns the length of the valid JSON escape sequence at the
// start of s, or 0 if there is none.
func escapeLen(s []byte) int {
	if len(s) < 2 {
		return 0
	}
	switch s[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if len(s) >= 6 && hex4(s[2:6]) >= 0 {
			return 6
		}
	}
	return 0
}

// hex4 decodes four hex digits, returning -1 if s does not start with them.
func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// appendUnescaped appends the value of the validated JSON string contents
// raw. Like encoding/json, it replaces invalid UTF-8 bytes and unpaired
// surrogate escapes with U+FFFD, so the result is valid UTF-8.
func appendUnescaped(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			var r rune
			r, i = unescape(raw, i)
			dst = utf8.AppendRune(dst, r)
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, raw[i:i+n]...)
			}
			i += n
		}
	}
	return dst
}

// unescape decodes the validated escape sequence at raw[i] and returns the
// rune and the offset after the sequence. A surrogate pair written as two
// \u escapes is one sequence.
func unescape(raw []byte, i int) (rune, int) {
	switch c := raw[i+1]; c {
	case 'b':
		return '\b', i + 2
	case 'f':
		return '\f', i + 2
	case 'n':
		return '\n', i + 2
	case 'r':
		return '\r', i + 2
	case 't':
		return '\t', i + 2
	case '"', '\\', '/':
		return rune(c), i + 2
	}
	// \uXXXX
	r := hex4(raw[i+2:])
	i += 6
	if !utf16.IsSurrogate(r) {
		return r, i
	}
	if i+1 < len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
		if d := utf16.DecodeRune(r, hex4(raw[i+2:])); d != unicode.ReplacementChar {
			return d, i + 6
		}
	}
	return unicode.ReplacementChar, i
}

// appendString appends the valid UTF-8 string s, plain if possible.
func appendString(dst, s []byte) []byte {
	if isPlain(s) {
		return append(dst, s...)
	}
	return appendQuoted(dst, s)
}

// Classes of bytes in a plain scalar, see plainClass.
const (
	plainBad     = iota // never plain
	plainOK             // always fine after the first byte
	plainColon          // ':' must not be last or followed by a space
	plainSpace          // ' ' must not be last or followed by '#'
	plainUnicode        // first byte of a non-ASCII rune
)

// plainClass classifies the bytes of a plain scalar after the first.
var plainClass = func() (t [256]uint8) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = plainOK
	}
	t[':'] = plainColon
	t[' '] = plainSpace
	for c := 0x80; c < 0x100; c++ {
		t[c] = plainUnicode
	}
	return t
}()

// plainStart marks the bytes a plain scalar may start with: ASCII letters
// and digits, the start of a non-ASCII rune, and a few punctuation
// characters that are neither YAML indicators nor the start of a number,
// null, merge key or document marker.
var plainStart = func() (t [256]bool) {
	for c := 0; c < 0x100; c++ {
		t[c] = c >= 0x80 || isDigit(byte(c)) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	for _, c := range []byte(`/()$^_\;`) {
		t[c] = true
	}
	return t
}()

// isPlain reports whether the valid UTF-8 string s can be written as a
// plain scalar that YAML 1.1 and YAML 1.2 parsers both read back as the
// same string, in block context, as a key or a value, at any column.
func isPlain(s []byte) bool {
	if len(s) > 0 && isDigit(s[0]) {
		return isPlainDigits(s)
	}
	if !plainPrefix(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch plainClass[s[i]] {
		case plainOK:
		case plainColon:
			if i+1 == len(s) || s[i+1] == ' ' {
				return false
			}
		case plainSpace:
			if i+1 == len(s) || s[i+1] == '#' {
				return false
			}
		case plainUnicode:
			r, n := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && n == 1 || !unicode.IsPrint(r) {
				return false
			}
			i += n - 1
		default:
			return false
		}
	}
	return true
}

// plainPrefix reports whether s is not empty, starts with a byte other
// than a digit that a plain scalar can start with, and is not a reserved
// word. The rest of s still needs checking.
func plainPrefix(s []byte) bool {
	return len(s) > 0 && plainStart[s[0]] && !isDigit(s[0]) && !isReserved(s)
}

// isPlainDigits reports whether s, which starts with a digit, is safe as a
// plain scalar. YAML 1.1 and 1.2 read many such strings as numbers (0x1F,
// 0o17, 0b101, 1e3, 1_000, 1:20, 1.5) or timestamps (2001-12-14), so only
// ASCII letters and digits are allowed and at least one letter must be one
// that no number syntax uses, as in 100m, 128Mi or 30s.
func isPlainDigits(s []byte) bool {
	letter := false
	for _, c := range s {
		switch {
		case isDigit(c), 'a' <= c && c <= 'f', 'A' <= c && c <= 'F',
			c == 'x', c == 'X', c == 'o', c == 'O':
			// Digits and letters of hex, octal, binary and exponents.
		case 'g' <= c && c <= 'z', 'G' <= c && c <= 'Z':
			letter = true
		default:
			return false
		}
	}
	return letter
}

// isReserved reports whether s, ignoring ASCII case, is a word that YAML
// 1.1 or 1.2 resolves to a bool or null, or one that other YAML
// implementations read as a special float.
func isReserved(s []byte) bool {
	var buf [8]byte
	if len(s) == 0 || len(s) > len(buf) {
		return false
	}
	switch s[0] | 0x20 { // ASCII lower case
	case 'y', 'n', 'o', 't', 'f', 'i':
	default:
		return false
	}
	for i, c := range s {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(s)]) {
	case "y", "n", "yes", "no", "on", "off", "true", "false",
		"null", "nan", "inf", "infinity":
		return true
	}
	return false
}

// appendQuoted appends the valid UTF-8 string s as a double-quoted scalar.
// It escapes '"', '\\', C0 and C1 controls, DEL and the other
// non-printable characters of the Basic Multilingual Plane (among them
// U+2028, U+2029 and U+FEFF, which YAML 1.1 treats as line breaks or a
// byte order mark) using JSON escapes.
func appendQuoted(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
			dst = appendEscapedASCII(append(dst, s[start:i]...), c)
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 || r <= 0xffff && !unicode.IsPrint(r) {
			dst = appendU4(append(dst, s[start:i]...), r)
			start = i + n
		}
		i += n
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendEscapedASCII appends the escape sequence for the ASCII byte c.
func appendEscapedASCII(dst []byte, c byte) []byte {
	switch c {
	case '"':
		return append(dst, `\"`...)
	case '\\':
		return append(dst, `\\`...)
	case '\n':
		return append(dst, `\n`...)
	case '\t':
		return append(dst, `\t`...)
	case '\r':
		return append(dst, `\r`...)
	case '\b':
		return append(dst, `\b`...)
	case '\f':
		return append(dst, `\f`...)
	}
	return appendU4(dst, rune(c))
}

// appendU4 appends a \uXXXX escape for r <= 0xFFFF.
func appendU4(dst []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(dst, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}
